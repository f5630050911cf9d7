"""The job state machine: every job transition is one conditional UPDATE, its messages in the same commit.

    submit ──> queued ──claim──> running ──finish──> succeeded
                 ^                 │  └──fail (no attempts left)──> failed (+ dead letter)
                 └──fail (retry)───┘
                 └──lease expired (sweep)
A message on the queue only names a job; these functions decide, from the row, whether to act.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from services.db.outbox import outbox_row
from services.db.queries import FontNotFound, get_font, lock_font, new_id
from services.db.tables import (
    BUILD,
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Job,
)
from services.queue.messages import DeadLetter, JobMessage


def active_job(session: Session, font_id: str) -> Job | None:
    return session.scalars(select(Job).where(Job.active_font_id == font_id)).first()


def latest_job(session: Session, font_id: str, state: str | None = None) -> Job | None:
    query = select(Job).where(Job.font_id == font_id)
    if state:
        query = query.where(Job.state == state)
    return session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(1)).first()


def count_jobs(session: Session, font_id: str, kind: str) -> int:
    """How many jobs of `kind` the font has had (any state)."""
    return int(
        session.scalar(select(func.count()).select_from(Job).where(Job.font_id == font_id, Job.kind == kind))
        or 0
    )


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


def submit_job(
    session: Session,
    font_id: str,
    topic: str,
    now: datetime,
    *,
    kind: str = BUILD,
    params: dict[str, Any] | None = None,
) -> tuple[Job, bool]:
    """Queue a job of `kind` (a build, or a re-package with its `params`) with its message in the same
    transaction. Returns (job, created).

    When the font already has an active job, that job is returned and nothing new is made.
    """
    lock_font(session, font_id)  # a delete of the font running alongside: one waits for the other
    existing = active_job(session, font_id)
    if existing:
        session.commit()  # ends the transaction, and with it the font's lock
        return existing, False
    job = Job(
        id=new_id(),
        font_id=font_id,
        active_font_id=font_id,
        state=QUEUED,
        progress=0.0,
        attempts=0,
        not_before=now,
        enqueued_at=now,
        stage_timings={},
        created_at=now,
        kind=kind,
        params=params,
    )
    session.add(job)
    session.add(outbox_row(topic, JobMessage(job.id), now))
    try:
        session.commit()
    except IntegrityError:
        # Another request queued one between our check and our insert: the unique index chose it.
        session.rollback()
        existing = active_job(session, font_id)
        if existing is None and get_font(session, font_id) is None:
            raise FontNotFound(font_id) from None  # SQLite takes no row lock: the delete won at the key
        if existing is None:
            raise
        return existing, False
    return job, True


def claim_job(
    session: Session, job_id: str, owner: str, lease_seconds: float, max_attempts: int, now: datetime
) -> Job | None:
    """Take the job for `owner` when it is queued and due, or running under an expired lease.

    Returns the claimed job (attempts already counted) or None when someone else has it or it is done.
    """
    claimable = or_(
        and_(Job.state == QUEUED, Job.not_before <= now),
        and_(Job.state == RUNNING, Job.lease_expires_at < now),
    )
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable, Job.attempts < max_attempts)
        .values(
            state=RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=now,
            stage=None,
            progress=0.0,
            stage_timings={},
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return get_job(session, job_id)


def _owned(job_id: str, owner: str) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.state == RUNNING, Job.lease_owner == owner)


def renew_lease(session: Session, job_id: str, owner: str, lease_seconds: float, now: datetime) -> bool:
    """Extend the lease; False when the job is not ours any more (deleted, or retaken after a lapse)."""
    result = session.execute(
        update(Job)
        .where(_owned(job_id, owner))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_progress(
    session: Session,
    job_id: str,
    owner: str,
    stage: str,
    progress: float,
    timings: dict[str, float],
    device: str | None = None,
) -> bool:
    """Store the current stage, overall progress (0..1) and stage timings; False when the job is not ours."""
    values: dict[str, object] = {
        "stage": stage,
        "progress": min(max(progress, 0.0), 1.0),
        "stage_timings": dict(timings),
    }
    if device:
        values["device"] = device
    result = session.execute(
        update(Job).where(_owned(job_id, owner)).values(**values).execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_job(
    session: Session, job_id: str, owner: str, result_prefix: str, timings: dict[str, float], now: datetime
) -> bool:
    """Mark the job succeeded with its font files under `result_prefix`; False when it is no longer ours."""
    result = session.execute(
        update(Job)
        .where(_owned(job_id, owner))
        .values(
            state=SUCCEEDED,
            active_font_id=None,
            progress=1.0,
            stage=None,
            stage_timings=dict(timings),
            result_prefix=result_prefix,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def fail_attempt(
    session: Session,
    job_id: str,
    owner: str,
    error: str,
    *,
    retry_at: datetime | None,
    dead_letter_topic: str,
    now: datetime,
) -> str | None:
    """Record a failed attempt: back to queued until `retry_at`, or failed for good (with a dead letter)
    when `retry_at` is None. Returns the new state, or None when the job was not ours."""
    job = get_job(session, job_id)
    if job is None or job.state != RUNNING or job.lease_owner != owner:
        session.rollback()
        return None
    if retry_at is not None:
        values: dict[str, object] = {"state": QUEUED, "not_before": retry_at, "enqueued_at": None}
    else:
        values = {"state": FAILED, "active_font_id": None, "finished_at": now}
        session.add(outbox_row(dead_letter_topic, DeadLetter(job_id, error, job.attempts), now))
    result = session.execute(
        update(Job)
        .where(_owned(job_id, owner))
        .values(error=error[:60_000], lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return None
    session.commit()
    return str(values["state"])


def sweep(
    session: Session,
    *,
    jobs_topic: str,
    dead_letter_topic: str,
    requeue_after_seconds: float,
    max_attempts: int,
    now: datetime,
) -> dict[str, int]:
    """Keep jobs moving when messages or workers were lost. Returns how many jobs each rule touched.

    - running with an expired lease (its worker died): back to queued, or failed when out of attempts;
    - queued and due, with no message written since `requeue_after_seconds` (broker lost it, or a retry
      whose wait is over): a new message goes to the outbox.
    Several sweepers may run at once: each change is conditional on the row still being as it was read.
    """
    counts = {"expired": 0, "failed": 0, "requeued": 0}
    expired = session.scalars(
        select(Job).where(Job.state == RUNNING, Job.lease_expires_at < now).with_for_update(skip_locked=True)
    ).all()
    for job in expired:
        if job.attempts >= max_attempts:
            reason = f"the worker stopped responding during attempt {job.attempts} of {max_attempts}"
            job.state, job.active_font_id, job.finished_at, job.error = FAILED, None, now, reason
            session.add(outbox_row(dead_letter_topic, DeadLetter(job.id, reason, job.attempts), now))
            counts["failed"] += 1
        else:
            job.state, job.not_before, job.enqueued_at = QUEUED, now, None
            counts["expired"] += 1
        job.lease_owner, job.lease_expires_at = None, None
    session.commit()

    cutoff = now - timedelta(seconds=requeue_after_seconds)
    stale = session.scalars(
        select(Job.id).where(
            Job.state == QUEUED,
            Job.not_before <= now,
            or_(Job.enqueued_at.is_(None), Job.enqueued_at < cutoff),
        )
    ).all()
    for job_id in stale:
        result = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.state == QUEUED,
                or_(Job.enqueued_at.is_(None), Job.enqueued_at < cutoff),
            )
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.add(outbox_row(jobs_topic, JobMessage(job_id), now))
            counts["requeued"] += 1
        session.commit()
    return counts


def requeue_all_queued(session: Session) -> int:
    """Mark every queued job as needing a fresh message (the broker was replaced); returns how many."""
    result = session.execute(
        update(Job)
        .where(Job.state == QUEUED)
        .values(enqueued_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
