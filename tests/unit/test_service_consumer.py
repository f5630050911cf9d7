"""The worker poll loop, Kafka faked at the boundary: commit only after a final state, pause while busy."""

from __future__ import annotations

import threading
from collections import namedtuple
from typing import Any

from kafka.structs import TopicPartition

from services.config import Settings
from services.queue.messages import JobMessage, encode
from services.worker.consumer import WorkerLoop
from services.worker.handler import Outcome

Record = namedtuple("Record", "topic partition offset value")
TP = TopicPartition("jobs", 0)


class FakeConsumer:
    """Just enough of KafkaConsumer: hands out queued records once, records pause/commit/seek calls."""

    def __init__(self, records: list[Record], loop: list[WorkerLoop]) -> None:
        self.records, self.loop = list(records), loop
        self.paused_tps: set[TopicPartition] = set()
        self.commits: list[int] = []
        self.seeks: list[int] = []
        self.polls_while_paused = 0
        self.closed = False

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def pause(self, *tps: TopicPartition) -> None:
        self.paused_tps.update(tps)

    def paused(self) -> set[TopicPartition]:
        return set(self.paused_tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused_tps.difference_update(tps)

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Record]]:
        if self.paused_tps:
            self.polls_while_paused += 1
            return {}
        if not self.records:
            self.loop[0].stop()
            return {}
        return {TP: [self.records.pop(0)]}

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append(offsets[TP].offset)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)

    def close(self) -> None:
        self.closed = True


class FakeHandler:
    owner = "fake"

    def __init__(self, results: list[Outcome | BaseException], delay: float = 0.0) -> None:
        self.results, self.delay = list(results), delay
        self.seen: list[str] = []
        self.dead: list[str] = []

    def handle(self, message: JobMessage) -> Outcome:
        self.seen.append(message.job_id)
        threading.Event().wait(self.delay)
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result

    def dead_letter(self, reason: str, raw: bytes | None) -> None:
        self.dead.append(reason)

    def heartbeat(self, device: str | None) -> None:
        pass


def run(records: list[Record], handler: FakeHandler) -> tuple[WorkerLoop, FakeConsumer]:
    holder: list[WorkerLoop] = []
    consumer = FakeConsumer(records, holder)
    loop = WorkerLoop(Settings(retry_backoff_seconds=0), handler, consumer=consumer)  # type: ignore[arg-type]
    holder.append(loop)
    thread = threading.Thread(target=loop.run)
    thread.start()
    thread.join(20)
    assert not thread.is_alive()
    return loop, consumer


def test_commits_each_offset_after_its_job_reached_a_final_state() -> None:
    records = [Record("jobs", 0, 7, encode(JobMessage("a"))), Record("jobs", 0, 8, encode(JobMessage("b")))]
    handler = FakeHandler([Outcome.SUCCEEDED, Outcome.SKIPPED], delay=0.6)
    loop, consumer = run(records, handler)
    assert handler.seen == ["a", "b"]
    assert consumer.commits == [8, 9]
    assert loop.handled == [("a", Outcome.SUCCEEDED), ("b", Outcome.SKIPPED)]
    assert consumer.polls_while_paused >= 2  # the loop kept polling (group membership) while the job ran
    assert consumer.paused_tps == set() and consumer.closed


def test_a_handler_crash_rewinds_instead_of_committing() -> None:
    records = [Record("jobs", 0, 3, encode(JobMessage("a")))]
    _, consumer = run(records, FakeHandler([ConnectionError("database down")]))
    assert consumer.commits == []
    assert consumer.seeks == [3]


def test_an_unreadable_message_goes_to_the_dead_letters_and_is_committed() -> None:
    handler = FakeHandler([])
    _, consumer = run([Record("jobs", 0, 0, b"{not json")], handler)
    assert handler.seen == [] and len(handler.dead) == 1 and "not JSON" in handler.dead[0]
    assert consumer.commits == [1]
