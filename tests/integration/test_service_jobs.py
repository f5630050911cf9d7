"""Job state transitions on MariaDB: one active job per font, leases, retries, the sweep and the outbox."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.db import jobs, outbox, queries
from services.db.session import Database, utcnow
from services.db.tables import FAILED, QUEUED, RUNNING, SUCCEEDED, Job, OutboxMessage
from services.queue.messages import DeadLetter, JobMessage, decode

pytestmark = pytest.mark.mysql
TOPIC, DEAD = "jobs", "dead"


def new_font(db: Database) -> str:
    with db.session() as session:
        return queries.create_font(session, "글씨")[0].id


def messages_on(db: Database, topic: str = TOPIC) -> list[OutboxMessage]:
    with db.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)
            )
        )


def test_submit_writes_the_job_and_its_message_together(db: Database) -> None:
    font_id = new_font(db)
    with db.session() as session:
        job, created = jobs.submit_job(session, font_id, TOPIC, utcnow())
        again, created_again = jobs.submit_job(session, font_id, TOPIC, utcnow())
    assert created and not created_again and again.id == job.id
    assert [decode(m.payload) for m in messages_on(db)] == [JobMessage(job.id)]


def test_concurrent_submits_make_one_job(db: Database) -> None:
    font_id = new_font(db)
    ids: list[str] = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        barrier.wait()
        with db.session() as session:
            ids.append(jobs.submit_job(session, font_id, TOPIC, utcnow())[0].id)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    assert len(messages_on(db)) == 1


def test_only_one_worker_claims_and_only_the_owner_renews(db: Database) -> None:
    font_id = new_font(db)
    with db.session() as session:
        job_id = jobs.submit_job(session, font_id, TOPIC, utcnow())[0].id
        claimed = jobs.claim_job(session, job_id, "w1", 60, 3, utcnow())
        assert claimed is not None and claimed.state == RUNNING and claimed.attempts == 1
        assert jobs.claim_job(session, job_id, "w2", 60, 3, utcnow()) is None
        assert jobs.renew_lease(session, job_id, "w1", 60, utcnow())
        assert not jobs.renew_lease(session, job_id, "w2", 60, utcnow())
        assert jobs.record_progress(session, job_id, "w1", "generate", 0.7, {"finetune": 3.5})
        assert not jobs.record_progress(session, job_id, "w2", "generate", 0.8, {})
        assert jobs.finish_job(session, job_id, "w1", "fonts/x/builds/y", {"finetune": 3.5}, utcnow())
        done = jobs.get_job(session, job_id)
        assert done is not None and done.state == SUCCEEDED and done.active_font_id is None
        assert done.stage_timings == {"finetune": 3.5}
        # Finished: a duplicate message claims nothing, and a new submit makes a new job.
        assert jobs.claim_job(session, job_id, "w2", 60, 3, utcnow()) is None
        second, created = jobs.submit_job(session, font_id, TOPIC, utcnow())
    assert created and second.id != job_id


def test_retry_waits_for_its_time_then_the_sweep_publishes_it(db: Database) -> None:
    font_id = new_font(db)
    now = utcnow()
    with db.session() as session:
        job_id = jobs.submit_job(session, font_id, TOPIC, now)[0].id
        jobs.claim_job(session, job_id, "w1", 60, 3, now)
        state = jobs.fail_attempt(
            session,
            job_id,
            "w1",
            "boom",
            retry_at=now + timedelta(seconds=30),
            dead_letter_topic=DEAD,
            now=now,
        )
        assert state == QUEUED
        assert jobs.claim_job(session, job_id, "w1", 60, 3, now) is None  # not due yet
        counts = jobs.sweep(
            session,
            jobs_topic=TOPIC,
            dead_letter_topic=DEAD,
            requeue_after_seconds=300,
            max_attempts=3,
            now=now,
        )
        assert counts["requeued"] == 0
        later = now + timedelta(seconds=31)
        counts = jobs.sweep(
            session,
            jobs_topic=TOPIC,
            dead_letter_topic=DEAD,
            requeue_after_seconds=300,
            max_attempts=3,
            now=later,
        )
        assert counts["requeued"] == 1
        assert jobs.claim_job(session, job_id, "w2", 60, 3, later) is not None
    assert [decode(m.payload) for m in messages_on(db)] == [JobMessage(job_id), JobMessage(job_id)]


def test_sweep_recovers_dead_workers_and_gives_up_after_max_attempts(db: Database) -> None:
    font_id = new_font(db)
    now = utcnow()
    with db.session() as session:
        job_id = jobs.submit_job(session, font_id, TOPIC, now)[0].id
        for attempt in (1, 2):
            assert jobs.claim_job(session, job_id, f"w{attempt}", 10, 2, now) is not None
            now += timedelta(seconds=11)  # the worker died: its lease runs out
            counts = jobs.sweep(
                session,
                jobs_topic=TOPIC,
                dead_letter_topic=DEAD,
                requeue_after_seconds=300,
                max_attempts=2,
                now=now,
            )
            if attempt == 1:
                assert counts == {"expired": 1, "failed": 0, "requeued": 1}
            else:
                assert counts == {"expired": 0, "failed": 1, "requeued": 0}
        job = jobs.get_job(session, job_id)
    assert job is not None and job.state == FAILED and "stopped responding" in (job.error or "")
    letters = [decode(m.payload) for m in messages_on(db, DEAD)]
    assert letters == [DeadLetter(job_id, job.error or "", 2)]


def test_a_lost_message_is_published_again_after_the_requeue_time(db: Database) -> None:
    font_id = new_font(db)
    now = utcnow()
    with db.session() as session:
        job_id = jobs.submit_job(session, font_id, TOPIC, now)[0].id
        quiet = jobs.sweep(
            session,
            jobs_topic=TOPIC,
            dead_letter_topic=DEAD,
            requeue_after_seconds=60,
            max_attempts=3,
            now=now + timedelta(seconds=30),
        )
        lost = jobs.sweep(
            session,
            jobs_topic=TOPIC,
            dead_letter_topic=DEAD,
            requeue_after_seconds=60,
            max_attempts=3,
            now=now + timedelta(seconds=61),
        )
    assert quiet["requeued"] == 0 and lost["requeued"] == 1
    assert [decode(m.payload) for m in messages_on(db)] == [JobMessage(job_id)] * 2


def test_outbox_rows_are_locked_while_one_relay_sends_them(db: Database) -> None:
    font_id = new_font(db)
    with db.session() as session:
        jobs.submit_job(session, font_id, TOPIC, utcnow())
    with db.session() as first, db.session() as second:
        rows = outbox.claim_outbox(first)
        assert len(rows) == 1
        assert outbox.claim_outbox(second) == []  # SKIP LOCKED: the other relay moves on
        with db.session() as writer:  # and a new job can be submitted meanwhile (no gap lock)
            jobs.submit_job(writer, new_font(db), TOPIC, utcnow())
        outbox.mark_published(first, [rows[0].id], utcnow())
        assert len(outbox.claim_outbox(second)) == 1


def test_deleting_a_font_removes_its_rows(db: Database) -> None:
    font_id = new_font(db)
    with db.session() as session:
        queries.replace_pages(
            session,
            font_id,
            [
                queries.PageWrite(
                    1, "p.jpg", "k1", "k2", {"page": 1}, [queries.GlyphCell(0xAC00, "ok", b"png")]
                )
            ],
        )
        jobs.submit_job(session, font_id, TOPIC, utcnow())
        assert queries.delete_font(session, font_id)
        assert not queries.delete_font(session, font_id)
        assert session.scalars(select(Job).where(Job.font_id == font_id)).all() == []
        assert queries.list_pages(session, font_id) == [] and queries.glyph_statuses(session, font_id) == {}
    assert messages_on(db) == []  # the unsent message about it went too
