"""Operator actions (retry, cancel, pause/resume intake, requeue a lost worker's jobs), each audited.

Every action is one transaction: the conditional UPDATE, any message it needs (outbox) and its row in
`operator_actions` commit together or not at all. Refusals raise OperationRefused (a ValueError with a
sentence for a person) whose `status` is the HTTP answer: 404 for an unknown target, 409 for a wrong state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.db import jobs
from services.db.outbox import outbox_row
from services.db.tables import (
    ACTIVE_STATES,
    CANCELLED,
    FAILED,
    INTAKE_PAUSED,
    QUEUED,
    RUNNING,
    Job,
    OperatorAction,
    ServiceFlag,
    Worker,
)
from services.queue.messages import JobMessage

# What a person sees on their font's page when an operator cancels the build.
CANCELLED_ERROR = "the build was cancelled by an operator"


class OperationRefused(ValueError):
    """An operator action that cannot be done; `status` is 404 (no such target) or 409 (wrong state)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IntakeState:
    paused: bool
    reason: str | None = None
    changed_by: str | None = None
    changed_at: datetime | None = None


def _audit(
    session: Session,
    actor: str,
    action: str,
    now: datetime,
    *,
    job_id: str | None = None,
    worker_id: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        OperatorAction(at=now, actor=actor, action=action, job_id=job_id, worker_id=worker_id, detail=detail)
    )


def _job_or_404(session: Session, job_id: str) -> Job:
    job = jobs.get_job(session, job_id)
    if job is None:
        session.rollback()
        raise OperationRefused(f"there is no job {job_id!r}", 404)
    return job


def retry_job(session: Session, job_id: str, actor: str, jobs_topic: str, now: datetime) -> Job:
    """Queue a failed job again with fresh attempts and a new message; returns the job."""
    job = _job_or_404(session, job_id)
    if job.state != FAILED:
        session.rollback()
        raise OperationRefused(f"job {job_id} is {job.state}; only a failed job can be retried")
    # Read now: after a rollback the row may be gone (the font deleted meanwhile) and can't be reloaded.
    font_id, previous_error = job.font_id, job.error
    try:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == FAILED)
            .values(
                state=QUEUED,
                active_font_id=Job.font_id,
                attempts=0,
                not_before=now,
                enqueued_at=now,
                stage=None,
                progress=0.0,
                error=None,
                finished_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise OperationRefused(f"job {job_id} changed state meanwhile; look again before retrying")
        session.add(outbox_row(jobs_topic, JobMessage(job_id), now))
        detail = f"previous error: {(previous_error or '')[:500]}"
        _audit(session, actor, "retry", now, job_id=job_id, detail=detail)
        session.commit()
    except IntegrityError:  # the unique active_font_id index: the person already queued a new build
        session.rollback()
        active = jobs.active_job(session, font_id)
        other = f" (job {active.id}, {active.state})" if active else ""
        raise OperationRefused(
            f"the font of job {job_id} already has a build queued or running{other}; cancel that first"
        ) from None
    return _job_or_404(session, job_id)


def cancel_job(session: Session, job_id: str, actor: str, now: datetime) -> Job:
    """Cancel a queued or running job. A running worker notices at its next progress write or lease
    renewal (both are conditional on the job still being running under its lease) and stops."""
    job = _job_or_404(session, job_id)
    previous = job.state
    if previous not in ACTIVE_STATES:
        session.rollback()
        raise OperationRefused(f"job {job_id} is {previous}; only a queued or running job can be cancelled")
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE_STATES))
        .values(
            state=CANCELLED,
            active_font_id=None,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=CANCELLED_ERROR,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise OperationRefused(f"job {job_id} finished meanwhile; there is nothing to cancel")
    _audit(session, actor, "cancel", now, job_id=job_id, detail=f"was {previous}")
    session.commit()
    return _job_or_404(session, job_id)


def intake_state(session: Session) -> IntakeState:
    """Whether new submissions are refused, and who decided it, when and why."""
    flag = session.get(ServiceFlag, INTAKE_PAUSED, populate_existing=True)
    if flag is None:
        return IntakeState(paused=False)
    return IntakeState(flag.enabled, flag.reason, flag.changed_by, flag.changed_at)


def set_intake_paused(
    session: Session, paused: bool, actor: str, now: datetime, reason: str | None = None
) -> IntakeState:
    """Pause (True) or resume (False) intake of new builds; returns the new state."""
    flag = session.get(ServiceFlag, INTAKE_PAUSED, with_for_update=True, populate_existing=True)
    if flag is None:
        flag = ServiceFlag(name=INTAKE_PAUSED)
        session.add(flag)
    flag.enabled, flag.changed_by, flag.changed_at = paused, actor, now
    flag.reason = reason if paused else None
    _audit(session, actor, "pause" if paused else "resume", now, detail=reason)
    try:
        session.commit()
    except IntegrityError:  # another operator created the row at the same moment: apply ours on top
        session.rollback()
        return set_intake_paused(session, paused, actor, now, reason)
    return intake_state(session)


def requeue_worker_jobs(
    session: Session, worker_id: str, actor: str, *, lease_seconds: float, jobs_topic: str, now: datetime
) -> list[str]:
    """Put the running jobs of a lost worker back in the queue, each with a new message; returns their ids.

    Refused while the worker still sends heartbeats. The attempt the worker was on is not counted: the
    worker died, not the build.
    """
    worker = session.get(Worker, worker_id, populate_existing=True)
    if worker is None:
        session.rollback()
        raise OperationRefused(f"there is no worker {worker_id!r}", 404)
    if worker.last_seen_at >= lost_cutoff(now, lease_seconds):  # the summary's rule for "lost"
        session.rollback()
        silent = (now - worker.last_seen_at).total_seconds()
        raise OperationRefused(
            f"worker {worker_id} sent a heartbeat {silent:.0f} s ago; it is not lost until it has been "
            f"silent for {lease_seconds:.0f} s"
        )
    running = session.scalars(
        select(Job).where(Job.state == RUNNING, Job.lease_owner == worker_id).with_for_update()
    ).all()
    for job in running:
        job.state, job.not_before, job.enqueued_at = QUEUED, now, now
        job.lease_owner, job.lease_expires_at = None, None
        job.attempts = max(job.attempts - 1, 0)
        session.add(outbox_row(jobs_topic, JobMessage(job.id), now))
    worker.current_job_id = None
    ids = [job.id for job in running]
    detail = f"requeued {', '.join(ids)}" if ids else "no running jobs to requeue"
    _audit(session, actor, "requeue", now, worker_id=worker_id, detail=detail)
    session.commit()
    return ids


def recent_actions(session: Session, limit: int = 100) -> Sequence[OperatorAction]:
    """The newest audit rows first."""
    return session.scalars(
        select(OperatorAction).order_by(OperatorAction.at.desc(), OperatorAction.id.desc()).limit(limit)
    ).all()


def lost_cutoff(now: datetime, lease_seconds: float) -> datetime:
    """A worker whose last heartbeat is older than this is lost."""
    return now - timedelta(seconds=lease_seconds)
