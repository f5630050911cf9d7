"""What a person waiting for a build is told: place in the queue and time left, from measured stage times.

The stage times are the medians of the jobs of the same kind that finished in the last 24 hours (the same
window as the operator summary); until there are any, a rough guess measured on a 2-core CPU stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db.operations import lost_cutoff
from services.db.ops_summary import WINDOW, percentile
from services.db.tables import QUEUED, REPACKAGE, RUNNING, SUCCEEDED, Job, Worker

# Seconds per stage on a 2-core CPU with the default settings, used until real builds have been measured.
GUESS: dict[str, dict[str, float]] = {
    "build": {"finetune": 360.0, "generate": 90.0, "trace": 30.0, "normalize": 15.0, "package": 5.0},
    REPACKAGE: {"redraw": 5.0, "package": 40.0},
}
MEASURED_JOBS = 50  # at most this many recent jobs per kind feed the medians


@dataclass(frozen=True)
class WaitEstimate:
    state: str
    ahead: int  # jobs queued before this one
    workers: int  # workers alive now
    seconds_left: float  # until the font should be ready
    measured: bool  # the stage times come from finished jobs (not the built-in guess)
    stage_seconds: dict[str, float]


def stage_medians(session: Session, kind: str, now: datetime) -> tuple[dict[str, float], bool]:
    """Median seconds per stage of recently finished jobs of `kind`; (guess, False) when there are none."""
    rows = session.scalars(
        select(Job.stage_timings)
        .where(Job.state == SUCCEEDED, Job.kind == kind, Job.finished_at >= now - WINDOW)
        .order_by(Job.finished_at.desc())
        .limit(MEASURED_JOBS)
    ).all()
    guess = GUESS.get(kind, GUESS["build"])
    per_stage: dict[str, list[float]] = {}
    for timings in rows:
        for stage, seconds in (timings or {}).items():
            if stage in guess and isinstance(seconds, int | float):
                per_stage.setdefault(stage, []).append(float(seconds))
    if not per_stage:
        return dict(guess), False
    return {
        stage: percentile(per_stage[stage], 50) if stage in per_stage else guess[stage] for stage in guess
    }, True


def estimate(session: Session, job: Job, now: datetime, lease_seconds: float) -> WaitEstimate:
    """Where `job` stands (queued or running) and how long until its font should be ready."""
    medians, measured = stage_medians(session, job.kind or "build", now)
    total = sum(medians.values())
    workers = int(
        session.scalar(
            select(func.count())
            .select_from(Worker)
            .where(Worker.last_seen_at >= lost_cutoff(now, lease_seconds))
        )
        or 0
    )
    ahead = 0
    if job.state == RUNNING:
        stages = list(medians)
        current = job.stage if job.stage in medians else stages[0]
        spent = float((job.stage_timings or {}).get(current, 0.0))
        later = stages[stages.index(current) + 1 :]
        # a stage running past its median is given a little more time rather than "0 s left"
        left = max(medians[current] - spent, 0.1 * medians[current]) + sum(medians[s] for s in later)
    else:
        ahead_kinds = session.execute(
            select(Job.kind, func.count())
            .where(Job.state == QUEUED, Job.created_at < job.created_at, Job.id != job.id)
            .group_by(Job.kind)
        ).all()
        running_kinds = session.execute(
            select(Job.kind, func.count()).where(Job.state == RUNNING).group_by(Job.kind)
        ).all()
        ahead = sum(int(n) for _, n in ahead_kinds)
        totals: dict[str, float] = {job.kind or "build": total}

        def kind_total(kind: str | None) -> float:
            """A whole job of `kind`: a fix behind builds waits for builds, not for fixes."""
            key = kind or "build"
            if key not in totals:
                totals[key] = sum(stage_medians(session, key, now)[0].values())
            return totals[key]

        queued_work = sum(int(n) * kind_total(kind) for kind, n in ahead_kinds)
        running_work = sum(0.5 * int(n) * kind_total(kind) for kind, n in running_kinds)
        # every job ahead, and those running now (half done on average), shared among the workers
        left = total + (queued_work + running_work) / max(workers, 1)
    session.rollback()
    return WaitEstimate(job.state, ahead, workers, round(left, 1), measured, medians)
