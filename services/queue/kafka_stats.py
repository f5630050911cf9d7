"""Kafka figures for operators: the workers' consumer group, its members, and lag per partition.

Fast or nothing: everything runs under one deadline in a helper thread, and any failure (broker down,
not configured, a call this broker does not support) becomes `available=False` with the reason, so the
operator page still renders.

Lag needs the log end of each partition. Tansu answers ListOffsets("latest") wrongly (the last batch's
base offset + 1, see ../shared/KAFKA.md), so we seek to that offset minus one, fetch once, and read the
high watermark the fetch reports, which is right on Tansu and on Apache Kafka alike.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from services.config import Settings

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 3.0


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed: int | None  # None: the group never committed here (it starts from the beginning)
    end: int
    lag: int


@dataclass(frozen=True)
class KafkaStats:
    available: bool
    reason: str | None = None  # why the figures are missing, when they are
    topic: str = ""
    group: str = ""
    group_state: str | None = None
    members: list[str] | None = None  # None: this broker cannot describe groups (Tansu)
    partitions: list[PartitionLag] = field(default_factory=list)

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)


def collect(settings: Settings, deadline_seconds: float = DEADLINE_SECONDS) -> KafkaStats:
    """The consumer group's state and lag, or `available=False` with a reason within the deadline."""

    def unavailable(reason: str) -> KafkaStats:
        return KafkaStats(False, f"unavailable: {reason}", settings.jobs_topic, settings.consumer_group)

    if not settings.kafka_servers:
        return unavailable("no Kafka broker configured (GEULSSI_KAFKA_BOOTSTRAP_SERVERS)")
    answer: list[KafkaStats] = []

    def run() -> None:
        try:
            answer.append(_collect(settings, deadline_seconds))
        except Exception as exc:  # any failure at all becomes a line on the page, never an error page
            answer.append(unavailable(_reason(exc)))

    thread = threading.Thread(target=run, name="kafka-stats", daemon=True)
    thread.start()
    thread.join(deadline_seconds + 0.5)
    if not answer:
        return unavailable(f"no answer from Kafka within {deadline_seconds:.0f} s")
    return answer[0]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _collect(settings: Settings, deadline_seconds: float) -> KafkaStats:
    from kafka import KafkaConsumer
    from kafka.admin import KafkaAdminClient
    from kafka.structs import TopicPartition

    timeout_ms = int(deadline_seconds * 1000)
    servers = settings.kafka_servers
    admin = KafkaAdminClient(
        bootstrap_servers=servers, request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms
    )
    consumer: Any = None
    try:
        groups = {g["group_id"]: g for g in admin.list_groups()}
        group = groups.get(settings.consumer_group)
        # Tansu lists no groups at all, even one with members consuming: an unlisted group is not taken
        # to be empty. Its committed offsets and members are asked for anyway (members: None, "unknown",
        # where the broker cannot describe groups), never reported as "members 0".
        committed = _committed(admin, settings.consumer_group, settings.jobs_topic)
        members = _members(admin, settings.consumer_group)

        consumer = KafkaConsumer(
            bootstrap_servers=servers,
            enable_auto_commit=False,
            request_timeout_ms=timeout_ms + 1000,
            bootstrap_timeout_ms=timeout_ms,
            fetch_max_wait_ms=100,
        )
        numbers = consumer.partitions_for_topic(settings.jobs_topic) or set()
        partitions = [TopicPartition(settings.jobs_topic, n) for n in sorted(numbers)]
        ends = _log_ends(consumer, partitions) if partitions else {}
        lags = [
            PartitionLag(
                tp.partition,
                committed.get(tp.partition),
                ends[tp],
                max(ends[tp] - committed.get(tp.partition, 0), 0),
            )
            for tp in partitions
        ]
        return KafkaStats(
            True,
            topic=settings.jobs_topic,
            group=settings.consumer_group,
            group_state=None if group is None else str(group.get("group_state") or "") or None,
            members=members,
            partitions=lags,
        )
    finally:
        admin.close()
        if consumer is not None:
            consumer.close()


def _committed(admin: Any, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (empty when it never committed)."""
    try:
        offsets = admin.list_group_offsets({group: None})[group]
    except Exception as exc:
        log.debug("list_group_offsets failed (%s); no committed offsets", exc)
        return {}
    return {
        tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0
    }


def _members(admin: Any, group: str) -> list[str] | None:
    """Member client ids and hosts; None where the broker cannot describe groups (Tansu fails this call)."""
    try:
        described = admin.describe_groups([group])[group]
    except Exception as exc:
        log.debug("describe_groups failed (%s); members unknown", exc)
        return None
    return [f"{m.get('client_id', '?')}@{m.get('client_host', '?')}" for m in described.get("members", [])]


def _log_ends(consumer: Any, partitions: list[Any]) -> dict[Any, int]:
    """The true log end offset of each partition (the high watermark reported by one fetch)."""
    reported = consumer.end_offsets(partitions)
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, max(reported[tp] - 1, 0))
    ends: dict[Any, int] = {}
    for _ in range(5):  # each poll fetches from every partition with data; usually one is enough
        consumer.poll(timeout_ms=200, max_records=1)
        ends = {tp: consumer.highwater(tp) for tp in partitions}
        if all(end is not None for end in ends.values()):
            break
    return {tp: ends[tp] if ends.get(tp) is not None else reported[tp] for tp in partitions}
