"""The broker restarted while jobs wait (memory storage: every message gone): the jobs are published again.

The fast test reads the new broker's topic with kafka-python; the slow one lets a worker build the job.
Neither lowers `requeue_after_seconds`: the relay must notice the lost log by itself, well before that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from sqlalchemy import func, select

from services.api.app import create_app
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.db.tables import OutboxMessage
from services.queue.broker import LocalBroker, free_port
from services.queue.messages import JobMessage, decode, encode
from services.storage import LocalArtifactStore
from services.worker.handler import Outcome
from services.worker.service import WorkerService
from tests.integration.test_service_relay import read_topic, unpublished
from tests.reliability.fault_kit import (
    font_jobs,
    missing_syllables,
    ready_font,
    submit,
    wait_for,
)

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]


@pytest.fixture
def own_broker() -> Iterator[LocalBroker]:
    """A broker of this test's own, so restarting it disturbs no other test."""
    broker = LocalBroker(free_port())
    broker.start()
    yield broker
    broker.stop()


def restart_settings(settings: Settings, broker: LocalBroker) -> Settings:
    # The default requeue_after_seconds (300 s) stays: it is what would hide the loss for minutes.
    return settings.model_copy(
        update={"kafka_bootstrap_servers": broker.bootstrap, "sweep_interval_seconds": 1.0}
    )


def queue_jobs(db: Database, topic: str, count: int) -> list[str]:
    ids = []
    with db.session() as session:
        for n in range(count):
            font, _ = queries.create_font(session, f"restart {n}")
            ids.append(jobs.submit_job(session, font.id, topic, utcnow())[0].id)
    return ids


def test_every_queued_job_is_published_again_to_the_restarted_broker(
    db: Database, settings: Settings, store: LocalArtifactStore, own_broker: LocalBroker
) -> None:
    settings = restart_settings(settings, own_broker)
    job_ids = queue_jobs(db, settings.jobs_topic, 6)
    with TestClient(create_app(settings, db=db, store=store, relay=True)):
        assert wait_for(lambda: unpublished(db) == 0, 30), "the relay did not publish the jobs"
        first = read_topic(own_broker.bootstrap, settings.jobs_topic, len(job_ids))
        assert {decode(v) for _, v in first} == {JobMessage(j) for j in job_ids}

        own_broker.stop()
        own_broker.start()  # same port, empty memory: the six messages are gone
        restarted = time.monotonic()
        again = read_topic(own_broker.bootstrap, settings.jobs_topic, len(job_ids), timeout=60)
        seconds = time.monotonic() - restarted
    assert {decode(v) for _, v in again} == {JobMessage(j) for j in job_ids}
    print(f"\nbroker restart: {len(job_ids)} queued jobs published again within {seconds:.1f} s")


def sent_messages(db: Database, job_id: str) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.key == job_id, OutboxMessage.published_at.is_not(None))
            )
            or 0
        )


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_job_queued_across_a_broker_restart_is_built_once(
    db: Database, settings: Settings, store: LocalArtifactStore, own_broker: LocalBroker
) -> None:
    """One real build: queued, broker restarted (message lost), delivered again twice, built once."""
    settings = restart_settings(settings, own_broker).model_copy(update={"finetune_steps": 20})
    with TestClient(create_app(settings, db=db, store=store, relay=True)) as client:
        font_id, auth = ready_font(client, "재시작 시험")
        job_id = submit(client, font_id, auth)
        assert wait_for(lambda: sent_messages(db, job_id) == 1, 30)

        own_broker.stop()
        own_broker.start()
        restarted = time.monotonic()
        assert wait_for(lambda: sent_messages(db, job_id) == 2, 60), "the relay did not send the job again"
        resent = time.monotonic() - restarted
        # And the same message once more, as a relay that crashed between sending and marking would.
        producer = KafkaProducer(bootstrap_servers=own_broker.bootstrap)
        again = JobMessage(job_id)
        producer.send(settings.jobs_topic, key=again.key, value=encode(again)).get(10)
        producer.close()

        worker = WorkerService(settings, db, store, with_relay=False).start()
        try:
            assert wait_for(lambda: len(worker.loop.handled) >= 2, 3000, interval=1.0), worker.loop.handled
            built = time.monotonic() - restarted
        finally:
            worker.stop()
        assert worker.loop.handled[:2] == [(job_id, Outcome.SUCCEEDED), (job_id, Outcome.SKIPPED)]
        [job] = font_jobs(db, font_id)
        assert job.id == job_id and job.state == "succeeded" and job.attempts == 1
        builds = store.root / "fonts" / font_id / "builds" / job_id
        assert sorted(p.name for p in builds.iterdir()) == ["1"]
        print(f"\nbroker restart: job sent again after {resent:.1f} s, built {built:.0f} s after the restart")
        ttf = client.get(f"/api/fonts/{font_id}/font.ttf", headers=auth)
        assert ttf.status_code == 200
        missing = missing_syllables(ttf.content)
        assert missing == [], f"{len(missing)} syllables unmapped, e.g. {[chr(c) for c in missing[:10]]}"
