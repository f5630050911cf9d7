"""The operator summary from the database: jobs by state, throughput, stage times, workers, failures, outbox.

Read-only. Kafka figures come from services/queue/kafka_stats.py; the API and the CLI put both together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db.operations import IntakeState, intake_state, lost_cutoff
from services.db.tables import FAILED, JOB_STATES, QUEUED, RUNNING, SUCCEEDED, Job, OutboxMessage, Worker

# The build's stages in the order they run (services/pipeline/flow.py); others sort after these.
STAGE_ORDER = ("finetune", "generate", "trace", "normalize", "package")
# Histogram bucket bounds (seconds) for stage durations: a CPU fine-tune takes minutes, packaging seconds.
BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
WINDOW = timedelta(hours=24)  # stage times and throughput are over the jobs finished in this window
WORKERS_SHOWN_FOR = timedelta(hours=24)  # a worker silent longer than this drops off the page
MAX_TIMED_JOBS = 2000  # enough for stable percentiles, small enough to read on every refresh


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's default).

    Raises ValueError for an empty sequence or q outside 0..100.
    """
    if not values:
        raise ValueError("no values to take a percentile of")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def cumulative_buckets(values: Sequence[float], bounds: Sequence[float] = BUCKETS) -> list[tuple[float, int]]:
    """(upper bound, how many values are <= it) for each bound, then (inf, all): a Prometheus histogram."""
    buckets = [(bound, sum(v <= bound for v in values)) for bound in bounds]
    return [*buckets, (math.inf, len(values))]


@dataclass(frozen=True)
class StageStats:
    stage: str
    count: int
    median_seconds: float
    p95_seconds: float
    sum_seconds: float
    buckets: list[tuple[float, int]]


@dataclass(frozen=True)
class WorkerStatus:
    id: str
    hostname: str
    pid: int
    device: str | None
    current_job_id: str | None
    stage: str | None
    started_at: datetime
    last_seen_at: datetime
    seconds_since_heartbeat: float
    lost: bool


@dataclass(frozen=True)
class Failure:
    job_id: str
    font_id: str
    stage: str | None
    attempts: int
    error: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class RunningJob:
    """A job a worker is running now: what it is doing and for how long (the /ops page's jobs table)."""

    job_id: str
    font_id: str
    kind: str
    stage: str | None
    progress: float  # 0..1 over the whole job
    elapsed_seconds: float  # since this attempt started
    stage_seconds: float  # in the current stage so far
    attempts: int
    worker: str | None


@dataclass(frozen=True)
class Summary:
    generated_at: datetime
    jobs: dict[str, int]
    oldest_queued_age_seconds: float | None
    finished_last_hour: int
    finished_last_24h: int
    failed_last_24h: int
    stages: list[StageStats]
    workers: list[WorkerStatus]
    failures: list[Failure]
    outbox_backlog: int
    outbox_oldest_age_seconds: float | None
    dead_letters: int  # messages written to the dead-letter topic, as long as the outbox keeps them (7 days)
    intake: IntakeState = field(default_factory=lambda: IntakeState(paused=False))
    running: list[RunningJob] = field(default_factory=list)


def stage_stats(timings: Sequence[dict[str, float]]) -> list[StageStats]:
    """Per-stage count, median, p95, sum and histogram buckets from jobs' stage_timings."""
    per_stage: dict[str, list[float]] = {}
    for job_timings in timings:
        for stage, seconds in (job_timings or {}).items():
            if isinstance(seconds, int | float) and math.isfinite(seconds):
                per_stage.setdefault(stage, []).append(float(seconds))
    order = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    return [
        StageStats(
            stage=stage,
            count=len(values),
            median_seconds=percentile(values, 50),
            p95_seconds=percentile(values, 95),
            sum_seconds=sum(values),
            buckets=cumulative_buckets(values),
        )
        for stage, values in sorted(per_stage.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    ]


def _count(session: Session, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(Job).where(*where)) or 0)  # type: ignore[arg-type]


def collect(
    session: Session,
    *,
    now: datetime,
    lease_seconds: float,
    dead_letter_topic: str,
    failures: int = 20,
) -> Summary:
    """Read everything the operator page shows from the database (`now` is naive UTC)."""
    by_state = dict.fromkeys(JOB_STATES, 0)
    for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        by_state[state] = int(count)
    oldest = session.scalar(select(func.min(Job.created_at)).where(Job.state == QUEUED))
    since = now - WINDOW
    timed = session.scalars(
        select(Job.stage_timings)
        .where(Job.state == SUCCEEDED, Job.kind == "build", Job.finished_at >= since)
        .order_by(Job.finished_at.desc())
        .limit(MAX_TIMED_JOBS)
    ).all()

    cutoff = lost_cutoff(now, lease_seconds)
    workers = [
        WorkerStatus(
            id=worker.id,
            hostname=worker.hostname,
            pid=worker.pid,
            device=worker.device,
            current_job_id=worker.current_job_id,
            stage=stage,
            started_at=worker.started_at,
            last_seen_at=worker.last_seen_at,
            seconds_since_heartbeat=max((now - worker.last_seen_at).total_seconds(), 0.0),
            lost=worker.last_seen_at < cutoff,
        )
        for worker, stage in session.execute(
            select(Worker, Job.stage)
            .outerjoin(Job, Job.id == Worker.current_job_id)
            .where(Worker.last_seen_at >= now - WORKERS_SHOWN_FOR)
            .order_by(Worker.hostname, Worker.id)
        )
    ]
    failed = [
        Failure(job.id, job.font_id, job.stage, job.attempts, job.error, job.finished_at)
        for job in session.scalars(
            select(Job).where(Job.state == FAILED).order_by(Job.finished_at.desc(), Job.id).limit(failures)
        )
    ]
    pending = OutboxMessage.published_at.is_(None)
    backlog = int(session.scalar(select(func.count()).select_from(OutboxMessage).where(pending)) or 0)
    oldest_pending = session.scalar(select(func.min(OutboxMessage.created_at)).where(pending))
    dead = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == dead_letter_topic)
    )
    summary = Summary(
        generated_at=now,
        jobs=by_state,
        oldest_queued_age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else None,
        finished_last_hour=_count(
            session, Job.state == SUCCEEDED, Job.finished_at >= now - timedelta(hours=1)
        ),
        finished_last_24h=_count(session, Job.state == SUCCEEDED, Job.finished_at >= since),
        failed_last_24h=_count(session, Job.state == FAILED, Job.finished_at >= since),
        stages=stage_stats(timed),
        workers=workers,
        failures=failed,
        outbox_backlog=backlog,
        outbox_oldest_age_seconds=max((now - oldest_pending).total_seconds(), 0.0)
        if oldest_pending
        else None,
        dead_letters=int(dead or 0),
        intake=intake_state(session),
        running=[
            RunningJob(
                job_id=job.id,
                font_id=job.font_id,
                kind=job.kind or "build",
                stage=job.stage,
                progress=float(job.progress or 0.0),
                elapsed_seconds=max((now - job.started_at).total_seconds(), 0.0) if job.started_at else 0.0,
                stage_seconds=float((job.stage_timings or {}).get(job.stage or "", 0.0)),
                attempts=job.attempts,
                worker=job.lease_owner,
            )
            for job in session.scalars(
                select(Job).where(Job.state == RUNNING).order_by(Job.started_at, Job.id)
            )
        ],
    )
    session.rollback()  # end the read: the page refreshes often and must not hold a snapshot open
    return summary
