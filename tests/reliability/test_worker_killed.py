"""A worker process killed with SIGKILL while fine-tuning: after its lease, the other worker finishes the job.

Two `geulssi worker` processes share a fresh MariaDB database and the session's Tansu broker; the API (with
its relay and sweep) runs here. One real build, plus the fine-tuning the killed worker did not finish.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.api.app import create_app
from services.config import Settings
from services.db.session import Database
from services.db.tables import Worker
from services.storage import LocalArtifactStore
from tests.reliability.fault_kit import (
    WorkerProcess,
    font_jobs,
    job_row,
    missing_syllables,
    ready_font,
    submit,
    wait_for,
)

pytestmark = [pytest.mark.mysql, pytest.mark.kafka, pytest.mark.slow]
LEASE_SECONDS = 6.0


def live_workers(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Worker)) or 0)


@pytest.mark.timeout(3600)
def test_a_job_survives_its_worker_being_killed_mid_finetune(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore, tmp_path: Path
) -> None:
    settings = kafka_settings.model_copy(
        update={
            "lease_seconds": LEASE_SECONDS,
            "sweep_interval_seconds": 1.0,
            "finetune_steps": 20,
            "max_attempts": 3,
        }
    )
    workers = [WorkerProcess(settings, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        with TestClient(create_app(settings, db=db, store=store, relay=True)) as client:
            font_id, auth = ready_font(client, "끈질긴 글씨")
            # Both in the group before the job goes out (each imports torch first: seconds).
            assert wait_for(lambda: live_workers(db) == 2, 180), [w.output() for w in workers]
            job_id = submit(client, font_id, auth)

            assert wait_for(lambda: job_row(db, job_id).stage == "finetune", 600), job_row(db, job_id)
            first = job_row(db, job_id)
            victim = next(w for w in workers if first.lease_owner and f":{w.pid}:" in first.lease_owner)
            victim.kill()
            killed = time.monotonic()

            assert wait_for(lambda: job_row(db, job_id).attempts == 2, 120), job_row(db, job_id)
            reclaimed = time.monotonic() - killed
            second = job_row(db, job_id)
            survivor = next(w for w in workers if w is not victim)
            assert second.lease_owner and f":{survivor.pid}:" in second.lease_owner

            assert wait_for(lambda: job_row(db, job_id).state in ("succeeded", "failed"), 3000, 1.0)
            total = time.monotonic() - killed
            job = job_row(db, job_id)
            print(
                f"\nSIGKILL mid-finetune: lease {LEASE_SECONDS:.0f} s, job re-claimed {reclaimed:.1f} s "
                f"after the kill, finished {total:.0f} s after it; stage timings {job.stage_timings}"
            )
            assert job.state == "succeeded", (job.error, survivor.output())
            assert job.attempts == 2
            assert [(j.id, j.state) for j in font_jobs(db, font_id)] == [(job_id, "succeeded")]
            # The killed attempt wrote nothing; the second one's files are the font's.
            builds = store.root / "fonts" / font_id / "builds" / job_id
            assert sorted(p.name for p in builds.iterdir()) == ["2"]
            ttf = client.get(f"/api/fonts/{font_id}/font.ttf", headers=auth)
            assert ttf.status_code == 200
            missing = missing_syllables(ttf.content)
            assert missing == [], f"{len(missing)} syllables unmapped, e.g. {[chr(c) for c in missing[:10]]}"
    finally:
        for worker in workers:
            worker.stop()
