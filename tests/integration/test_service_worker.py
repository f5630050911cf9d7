"""The worker against MariaDB and Tansu: duplicates are harmless, offsets stick, bad payloads are parked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kafka import KafkaProducer
from sqlalchemy import select

from services.config import Settings
from services.db import jobs, outbox, queries
from services.db.session import Database, utcnow
from services.db.tables import Worker
from services.queue.broker import LocalBroker, free_port
from services.queue.messages import DeadLetter, JobMessage, decode
from services.storage import LocalArtifactStore
from services.worker.handler import Outcome
from services.worker.service import WorkerService
from tests.integration.test_service_relay import read_topic

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def finished_job(db: Database, topic: str) -> str:
    """A job that some worker already built; its message is (still) in the outbox."""
    with db.session() as session:
        font, _ = queries.create_font(session, "done")
        job, _ = jobs.submit_job(session, font.id, topic, utcnow())
        assert jobs.claim_job(session, job.id, "earlier-worker", 60, 3, utcnow())
        assert jobs.finish_job(
            session, job.id, "earlier-worker", f"fonts/{font.id}/builds/{job.id}", {}, utcnow()
        )
        return job.id


def test_duplicates_are_skipped_and_committed_offsets_survive_a_restart(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore
) -> None:
    job_id = finished_job(db, kafka_settings.jobs_topic)
    with db.session() as session:  # the same message again, as after a relay crash between send and mark
        outbox.add_message(session, kafka_settings.jobs_topic, JobMessage(job_id), utcnow())

    worker = WorkerService(kafka_settings, db, store).start()
    try:
        assert wait_for(lambda: len(worker.loop.handled) == 2), worker.loop.handled
    finally:
        worker.stop()
    assert worker.loop.handled == [(job_id, Outcome.SKIPPED)] * 2
    with db.session() as session:
        job = jobs.get_job(session, job_id)
        beats = session.scalars(select(Worker)).all()
    assert job is not None and job.state == "succeeded" and job.attempts == 1
    assert [w.id for w in beats] == [worker.handler.owner]

    again = WorkerService(kafka_settings, db, store, with_relay=False).start()
    try:
        time.sleep(4)  # joined the group (~1.2 s) and polled: nothing left to read
    finally:
        again.stop()
    assert again.loop.handled == []


def test_an_unreadable_message_is_parked_on_the_dead_letter_topic(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore
) -> None:
    worker = WorkerService(kafka_settings, db, store).start()
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap_servers)
    try:
        producer.send(kafka_settings.jobs_topic, b"this is not a job").get(10)
        letters = read_topic(kafka_settings.kafka_bootstrap_servers, kafka_settings.dead_letter_topic, 1, 25)
    finally:
        producer.close()
        worker.stop()
    assert len(letters) == 1
    letter = decode(letters[0][1])
    assert (
        isinstance(letter, DeadLetter) and letter.raw == "this is not a job" and "not JSON" in letter.reason
    )


def test_a_worker_started_before_kafka_waits_for_it(
    db: Database, settings: Settings, store: LocalArtifactStore
) -> None:
    broker = LocalBroker(free_port())  # not started yet
    settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
    job_id = finished_job(db, settings.jobs_topic)
    worker = WorkerService(settings, db, store).start()
    try:
        time.sleep(1.0)
        broker.start()
        assert wait_for(lambda: worker.loop.handled == [(job_id, Outcome.SKIPPED)], timeout=40)
    finally:
        worker.stop()
        broker.stop()
