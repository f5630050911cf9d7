"""The outbox relay: publish outbox rows to Kafka, and sweep for jobs whose message or worker was lost.

Runs as a thread in the API process and in each worker; several relays at once are fine (rows are
locked while sent, and every consumer tolerates duplicates). When Kafka is down the rows simply wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from services.config import Settings
from services.db import jobs, outbox
from services.db.session import Database, utcnow
from services.queue.broker import ensure_topics
from services.queue.log_watch import EndOffsets, KafkaEndOffsets, LogWatch

log = logging.getLogger(__name__)

ProducerFactory = Callable[[], Any]


def ensure_job_topics(settings: Settings) -> None:
    """Create the jobs and dead-letter topics if missing (a broker with memory storage forgets them)."""
    ensure_topics(
        ",".join(settings.kafka_servers),
        {settings.jobs_topic: settings.jobs_topic_partitions, settings.dead_letter_topic: 1},
        timeout_s=settings.kafka_request_timeout_ms / 1000,
    )


def kafka_producer_factory(settings: Settings) -> ProducerFactory:
    """A factory of KafkaProducers that give up quickly when the broker is away (the rows just wait).

    Each new producer first makes sure the topics exist, so they get our partition counts rather than
    whatever a broker's auto-creation would pick after a restart.
    """

    def make() -> Any:
        from kafka import KafkaProducer

        ensure_job_topics(settings)
        timeout = settings.kafka_request_timeout_ms
        return KafkaProducer(
            bootstrap_servers=settings.kafka_servers,
            client_id="geulssi-relay",
            acks="all",
            bootstrap_timeout_ms=timeout,
            max_block_ms=timeout,
            request_timeout_ms=timeout,
            delivery_timeout_ms=2 * timeout,
            linger_ms=0,
        )

    return make


class OutboxRelay:
    """Publishes outbox rows: `run` loops until stopped; `publish_pending` and `sweep` do one round."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        producer_factory: ProducerFactory | None = None,
        end_offsets: EndOffsets | None = None,
    ) -> None:
        self.db, self.settings = db, settings
        self.make_producer = producer_factory or kafka_producer_factory(settings)
        self._producer: Any = None
        self.watch = LogWatch()  # notices a broker that came back without our messages
        self.end_offsets = end_offsets or KafkaEndOffsets(settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish_pending(self, batch: int = 100) -> int:
        """Send up to `batch` unsent rows and mark them sent; return how many. Raises when Kafka fails."""
        timeout = self.settings.kafka_request_timeout_ms / 1000 * 2
        with self.db.session() as session:
            rows = outbox.claim_outbox(session, batch)
            if not rows:
                session.rollback()
                return 0
            try:
                if self._producer is None:
                    self._producer = self.make_producer()
                futures = [
                    self._producer.send(
                        row.topic, key=row.key.encode() if row.key else None, value=row.payload
                    )
                    for row in rows
                ]
                for row, future in zip(rows, futures, strict=True):
                    sent = future.get(timeout=timeout)
                    if row.topic == self.settings.jobs_topic:
                        self.watch.sent(sent.partition, sent.offset)
            except Exception:
                # A producer that saw the broker go away can be stuck in a fatal state (idempotence
                # epoch): start a fresh one next time.
                self._close_producer()
                raise
            outbox.mark_published(session, [row.id for row in rows], utcnow())
            return len(rows)

    def sweep(self) -> dict[str, int]:
        """Re-publish jobs whose message or worker was lost; forget messages sent a week ago."""
        settings = self.settings
        if self._broker_lost_messages():
            with self.db.session() as session:
                count = jobs.requeue_all_queued(session)
            log.warning("the broker lost the jobs topic's messages (restarted?): %d jobs sent again", count)
        with self.db.session() as session:
            counts = jobs.sweep(
                session,
                jobs_topic=settings.jobs_topic,
                dead_letter_topic=settings.dead_letter_topic,
                requeue_after_seconds=settings.requeue_after_seconds,
                max_attempts=settings.max_attempts,
                now=utcnow(),
            )
            outbox.prune_outbox(session, utcnow() - timedelta(days=7))
        if any(counts.values()):
            log.info("sweep: %s", counts)
        return counts

    def _broker_lost_messages(self) -> bool:
        """Whether the jobs topic's log went back since we sent to it (see log_watch.py)."""
        if self.watch.last:
            try:
                self.watch.check(self.end_offsets(self.settings.jobs_topic, sorted(self.watch.last)))
            except Exception as exc:  # broker away: the next sweep looks again
                log.debug("could not read the jobs topic's end offsets: %s", exc)
        return self.watch.take_lost()

    def run(self) -> None:
        """Loop until stop(): publish every relay interval, sweep every sweep interval, back off on errors."""
        next_sweep = 0.0
        failures = 0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.settings.sweep_interval_seconds
                while self.publish_pending() and not self._stop.is_set():
                    pass
                if failures:
                    log.info("outbox relay is publishing again")
                failures = 0
            except Exception as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning(
                        "outbox relay: %s (%d failures in a row; messages wait in the outbox)", exc, failures
                    )
            wait = self.settings.relay_interval_seconds * min(2 ** min(failures, 5), 20)
            self._stop.wait(wait)
        self._close_producer()

    def start(self) -> OutboxRelay:
        """Run the loop in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if isinstance(self.end_offsets, KafkaEndOffsets):
            self.end_offsets.close()

    def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception as exc:  # closing a broken producer may complain; it is gone either way
                log.debug("closing the producer: %s", exc)
