"""The worker's Kafka loop: one message at a time, the job in a thread while the loop keeps polling.

While a job runs, every assigned partition is paused and the loop keeps calling poll(), so the
consumer stays in its group however long the build takes. The offset is committed only after the
handler has stored the job's final state; whether to commit or to rewind is decided in one `finally`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from services.config import Settings
from services.queue.messages import JobMessage, MessageError, decode
from services.worker.handler import JobHandler, Outcome

log = logging.getLogger(__name__)

POLL_MS = 500
HEARTBEAT_SECONDS = 15.0


def kafka_consumer(settings: Settings) -> Any:
    """A consumer in the workers' group, committing by hand, one record per poll."""
    from kafka import KafkaConsumer

    return KafkaConsumer(
        settings.jobs_topic,
        bootstrap_servers=settings.kafka_servers,
        group_id=settings.consumer_group,
        client_id="geulssi-worker",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=1,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        bootstrap_timeout_ms=settings.kafka_request_timeout_ms,
        request_timeout_ms=max(settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 5000),
    )


class _JobThread(threading.Thread):
    """Runs handler.handle(message) and keeps its outcome or exception. Daemon: Ctrl-C need not wait."""

    def __init__(self, handler: JobHandler, message: JobMessage) -> None:
        super().__init__(name=f"job-{message.job_id}", daemon=True)
        self.handler, self.message = handler, message
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.outcome = self.handler.handle(self.message)
        except BaseException as exc:
            self.error = exc


class WorkerLoop:
    """Consumes job messages and hands them to the handler until stop() is called."""

    def __init__(
        self, settings: Settings, handler: JobHandler, consumer: Any = None, device: str | None = None
    ) -> None:
        self.settings, self.handler = settings, handler
        self.consumer = consumer
        self.device = device
        self.stopping = threading.Event()
        self.handled: list[tuple[str, Outcome]] = []  # (job id, outcome), newest last; read by tests and logs
        self._last_heartbeat = 0.0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Poll and handle until stopped; closes the consumer at the end. Kafka errors propagate."""
        if self.consumer is None:
            self.consumer = kafka_consumer(self.settings)
        log.info(
            "worker %s consuming %s (group %s), device %s",
            self.handler.owner,
            self.settings.jobs_topic,
            self.settings.consumer_group,
            self.device or "default",
        )
        try:
            while not self.stopping.is_set():
                self._heartbeat()
                batch = self.consumer.poll(timeout_ms=POLL_MS)
                for records in batch.values():
                    for record in records:
                        if self.stopping.is_set():
                            self._rewind(record)
                            continue
                        self._process(record)
        finally:
            self.consumer.close()

    def _process(self, record: Any) -> None:
        from kafka.structs import OffsetAndMetadata, TopicPartition

        tp = TopicPartition(record.topic, record.partition)
        settled = False
        try:
            try:
                message = decode(record.value)
            except MessageError as exc:
                log.error(
                    "unreadable message at %s:%d@%d: %s", record.topic, record.partition, record.offset, exc
                )
                self.handler.dead_letter(str(exc), record.value)
                settled = True
                return
            if not isinstance(message, JobMessage):
                log.error("a %s message arrived on the jobs topic; ignored", message.type)
                settled = True
                return
            outcome = self._run_paused(message)
            if outcome is not None:
                self.handled.append((message.job_id, outcome))
                settled = True
        finally:
            # The one place that decides: committed once the job's state is stored, else read again later.
            if settled:
                try:
                    self.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
                except Exception as exc:  # partition moved to another worker: it will skip the finished job
                    log.warning("could not commit %s@%d: %s", tp, record.offset, exc)
            else:
                self._rewind(record)
            self.consumer.resume(*self.consumer.paused())

    def _run_paused(self, message: JobMessage) -> Outcome | None:
        """Run the job in a thread while polling paused partitions; None if it did not reach a final state."""
        self.consumer.pause(*self.consumer.assignment())
        job = _JobThread(self.handler, message)
        job.start()
        while job.is_alive():
            if self.stopping.is_set():
                log.warning(
                    "stopping while job %s runs: it will be retaken after its lease expires", message.job_id
                )
                return None
            self._heartbeat()
            extra = self.consumer.poll(timeout_ms=POLL_MS)
            # A rebalance may have handed us fresh, unpaused partitions: put back what they gave.
            for records in extra.values():
                from kafka.structs import TopicPartition

                first = records[0]
                self.consumer.seek(TopicPartition(first.topic, first.partition), first.offset)
            self.consumer.pause(*self.consumer.assignment())
        if job.error is not None:
            log.error(
                "job %s could not be handled (%s); the message will be read again", message.job_id, job.error
            )
            self.stopping.wait(min(self.settings.retry_backoff_seconds, 10.0))
            return None
        return job.outcome

    def _rewind(self, record: Any) -> None:
        from kafka.structs import TopicPartition

        try:
            self.consumer.seek(TopicPartition(record.topic, record.partition), record.offset)
        except Exception as exc:  # not assigned any more: its next owner reads from the committed offset
            log.debug("could not rewind: %s", exc)

    def _heartbeat(self) -> None:
        # Several beats per lease, so a live worker never looks lost (silent past its lease) on the ops page.
        if time.monotonic() - self._last_heartbeat < min(HEARTBEAT_SECONDS, self.settings.lease_seconds / 3):
            return
        self._last_heartbeat = time.monotonic()
        if self.settings.worker_health_file:
            self.settings.worker_health_file.touch()
        try:
            self.handler.heartbeat(self.device)
        except Exception as exc:
            log.warning("could not record the worker heartbeat: %s", exc)
