"""The outbox relay against MariaDB and a real Tansu broker: publishes, survives the broker going away."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer
from sqlalchemy import func, select

from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.db.tables import OutboxMessage
from services.queue.broker import LocalBroker, free_port
from services.queue.messages import JobMessage, decode
from services.queue.relay import OutboxRelay

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 15.0) -> list[tuple[bytes, bytes]]:
    """(key, value) of the first `expected` messages on the topic, from the beginning."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=500,
    )
    got: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                got += [(r.key, r.value) for r in records]
    finally:
        consumer.close()
    return got


def submit(db: Database, topic: str) -> str:
    with db.session() as session:
        font, _ = queries.create_font(session, "relay")
        return jobs.submit_job(session, font.id, topic, utcnow())[0].id


def unpublished(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
            or 0
        )


def test_relay_publishes_outbox_rows_keyed_by_job(db: Database, kafka_settings: Settings) -> None:
    job_ids = [submit(db, kafka_settings.jobs_topic) for _ in range(3)]
    relay = OutboxRelay(db, kafka_settings)
    assert relay.publish_pending() == 3
    assert relay.publish_pending() == 0
    assert unpublished(db) == 0
    messages = read_topic(kafka_settings.kafka_bootstrap_servers, kafka_settings.jobs_topic, 3)
    decoded = [decode(value) for _, value in messages]
    assert {m.job_id for m in decoded if isinstance(m, JobMessage)} == set(job_ids)
    assert [key for key, _ in messages] == [m.key for m in decoded]


@pytest.fixture
def own_broker() -> Iterator[LocalBroker]:
    broker = LocalBroker(free_port())
    broker.start()
    yield broker
    broker.stop()


def test_jobs_wait_in_the_outbox_while_kafka_is_down(
    db: Database, settings: Settings, own_broker: LocalBroker
) -> None:
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_broker.bootstrap})
    relay = OutboxRelay(db, settings)
    first = submit(db, settings.jobs_topic)
    assert relay.publish_pending() == 1

    own_broker.stop()
    second = submit(db, settings.jobs_topic)
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - whatever kafka-python raises, the row must stay
        relay.publish_pending()
    assert time.monotonic() - started < 30
    assert unpublished(db) == 1

    # The relay thread keeps trying; once the broker is back, the waiting job goes out.
    relay.start()
    try:
        time.sleep(1.0)
        own_broker.start()  # memory storage: it comes back empty
        deadline = time.monotonic() + 40
        while unpublished(db) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert unpublished(db) == 0
        # The first job is still queued and its message died with the broker: a sweep notices the
        # lost log and sends it again (the relay's own sweep may have done so already).
        relay.sweep()
        relay.publish_pending()
    finally:
        relay.stop()
    values = {decode(v) for _, v in read_topic(own_broker.bootstrap, settings.jobs_topic, 2)}
    assert values == {JobMessage(first), JobMessage(second)} and first != second


def test_sweep_republishes_a_queued_job_the_restarted_broker_forgot(
    db: Database, kafka_settings: Settings
) -> None:
    settings = kafka_settings.model_copy(update={"requeue_after_seconds": 3.0})
    job_id = submit(db, settings.jobs_topic)
    relay = OutboxRelay(db, settings)
    assert relay.publish_pending() == 1
    assert relay.sweep()["requeued"] == 0  # just sent
    time.sleep(3.1)
    assert relay.sweep()["requeued"] == 1  # nobody has taken it: maybe the message was lost
    assert relay.publish_pending() == 1
    values = [decode(v) for _, v in read_topic(settings.kafka_bootstrap_servers, settings.jobs_topic, 2)]
    assert values == [JobMessage(job_id), JobMessage(job_id)]
