"""Notice a broker that lost the jobs topic's log (restarted with memory storage, or the topic recreated).

Kafka offsets never go down while a log lives (retention only moves its start), so a partition whose end
offset is at or below an offset the broker once acknowledged to us, or a send acknowledged at an offset
we already saw, means the messages we sent are gone. The relay then marks every queued job for a fresh
message at once, instead of waiting `requeue_after_seconds` for the sweep to suspect each job.
Tansu creates a missing topic on first use, so "is the topic there" would not tell.
Other relays' sends may carry a partition past our last offset before we look; then the sweep's
`requeue_after_seconds` remains the safety net.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from services.config import Settings

# (topic, partitions) -> partition -> end offset (the offset the next message would get)
EndOffsets = Callable[[str, list[int]], Mapping[int, int]]


class LogWatch:
    """Remembers the last offset acknowledged per partition of one topic; says when the log went back."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        self._lost = False

    def sent(self, partition: int, offset: int) -> None:
        """Record a send the broker acknowledged at `offset`."""
        if offset <= self.last.get(partition, -1):
            self._lost = True
        self.last[partition] = offset

    def check(self, end_offsets: Mapping[int, int]) -> None:
        """Compare the partitions' end offsets now with what was acknowledged before."""
        if any(end_offsets.get(p, 0) <= offset for p, offset in self.last.items()):
            self._lost = True

    def take_lost(self) -> bool:
        """True once after the log was found lost; the watch then starts over on the new log."""
        lost, self._lost = self._lost, False
        if lost:
            self.last.clear()
        return lost


class KafkaEndOffsets:
    """Reads partitions' end offsets with a group-less consumer, kept open between calls."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._consumer: Any = None

    def __call__(self, topic: str, partitions: list[int]) -> Mapping[int, int]:
        from kafka import KafkaConsumer
        from kafka.structs import TopicPartition

        timeout = self.settings.kafka_request_timeout_ms
        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(
                    bootstrap_servers=self.settings.kafka_servers,
                    client_id="geulssi-relay-watch",
                    group_id=None,
                    enable_auto_commit=False,
                    bootstrap_timeout_ms=timeout,
                    request_timeout_ms=timeout,
                )
            ends = self._consumer.end_offsets([TopicPartition(topic, p) for p in partitions], timeout)
        except Exception:
            self.close()  # a client that saw the broker vanish may keep stale state: start afresh
            raise
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            # A broken client may complain while closing; it is gone either way.
            with contextlib.suppress(Exception):
                consumer.close()
