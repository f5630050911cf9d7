"""The job handler against a real (SQLite) database, with the font builder faked at the boundary."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.api.uploads import png_bytes
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.db.tables import FAILED, QUEUED, RUNNING, SUCCEEDED, OutboxMessage
from services.queue.messages import DeadLetter, JobMessage, decode
from services.storage import LocalArtifactStore, result_key
from services.worker.handler import JobHandler, Outcome
from services.worker.policy import STAGE_WEIGHTS


@dataclass
class Files:
    ttf: Path
    woff2: Path
    preview: Path


class FakeBuilder:
    """Stands in for services.pipeline.flow.build_font: reports every stage, writes three small files."""

    def __init__(self, fail: BaseException | None = None, during: Callable[[], object] | None = None) -> None:
        self.fail, self.during = fail, during
        self.calls: list[tuple[int, str]] = []
        self.spacing: object = "not called"

    def __call__(
        self,
        glyphs: Mapping[int, np.ndarray],
        workdir: Path,
        family_name: str,
        *,
        options: Any,
        progress: Callable[[str, float], None],
        spacing: Mapping[str, float] | None = None,
    ) -> Files:
        self.calls.append((len(glyphs), family_name))
        self.spacing = spacing
        assert all(g.dtype == np.uint8 and g.ndim == 2 for g in glyphs.values())
        for stage in STAGE_WEIGHTS:
            progress(stage, 0.0)
            if self.during and stage == "generate":
                self.during()
            if self.fail and stage == "trace":
                raise self.fail
            progress(stage, 1.0)
        files = Files(workdir / "f.ttf", workdir / "f.woff2", workdir / "p.png")
        for path in (files.ttf, files.woff2, files.preview):
            path.write_bytes(path.suffix.encode() * 10)
        return files


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="sqlite://",
        storage_dir=tmp_path / "art",
        max_attempts=2,
        retry_backoff_seconds=0,
        lease_seconds=30,
        work_dir=tmp_path,
    )


def queued_job(db: Database, glyph_count: int = 3) -> tuple[str, str]:
    """A font with `glyph_count` usable glyphs (plus one empty cell) and a queued job; returns (font, job)."""
    ink = np.full((40, 40), 255, np.uint8)
    ink[10:30, 18:22] = 0
    cells = [queries.GlyphCell(0xAC00 + i, "ok", png_bytes(ink)) for i in range(glyph_count)]
    cells.append(queries.GlyphCell(0xAC00 + glyph_count, "empty", None))
    with db.session() as session:
        font, _ = queries.create_font(session, "손글씨")
        queries.replace_pages(session, font.id, [queries.PageWrite(1, "p.jpg", "k1", "k2", {}, cells)])
        job, created = jobs.submit_job(session, font.id, "jobs", utcnow())
    assert created
    return font.id, job.id


def make_handler(db: Database, settings: Settings, builder: FakeBuilder) -> JobHandler:
    return JobHandler(
        db, LocalArtifactStore(settings.storage_dir), settings, builder=builder, options=object()
    )


def test_a_job_is_built_stored_and_marked_succeeded(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db, glyph_count=3)
    builder = FakeBuilder()
    handler = make_handler(db, settings, builder)
    assert handler.handle(JobMessage(job_id)) is Outcome.SUCCEEDED
    assert builder.calls == [(3, "손글씨")]  # only the usable glyphs, and the font's name
    assert builder.spacing is None  # the writing line's page was not uploaded: the default spacing
    with db.session() as session:
        job = jobs.get_job(session, job_id)
    assert job is not None and job.state == SUCCEEDED and job.progress == 1.0 and job.attempts == 1
    assert set(job.stage_timings) == set(STAGE_WEIGHTS)
    assert job.lease_owner is None and job.result_prefix
    assert LocalArtifactStore(settings.storage_dir).get(result_key(job.result_prefix, "ttf")) == b".ttf" * 10


def test_the_same_message_twice_builds_once(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    builder = FakeBuilder()
    handler = make_handler(db, settings, builder)
    assert handler.handle(JobMessage(job_id)) is Outcome.SUCCEEDED
    assert handler.handle(JobMessage(job_id)) is Outcome.SKIPPED
    assert make_handler(db, settings, builder).handle(JobMessage("unknownJob")) is Outcome.SKIPPED
    assert len(builder.calls) == 1


def test_a_running_job_is_not_taken_by_a_second_worker(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    second = FakeBuilder()
    outcomes: list[Outcome] = []

    def other_worker_tries() -> None:
        outcomes.append(make_handler(db, settings, second).handle(JobMessage(job_id)))

    first = FakeBuilder(during=other_worker_tries)
    assert make_handler(db, settings, first).handle(JobMessage(job_id)) is Outcome.SUCCEEDED
    assert outcomes == [Outcome.SKIPPED] and second.calls == []


def test_failures_retry_then_fail_with_a_dead_letter(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    handler = make_handler(db, settings, FakeBuilder(fail=RuntimeError("CUDA out of memory")))
    assert handler.handle(JobMessage(job_id)) is Outcome.RETRY
    with db.session() as session:
        job = jobs.get_job(session, job_id)
        assert job is not None and job.state == QUEUED and job.error == "CUDA out of memory"
        assert job.enqueued_at is None  # the sweep will publish it again once not_before has passed
    assert handler.handle(JobMessage(job_id)) is Outcome.FAILED
    with db.session() as session:
        job = jobs.get_job(session, job_id)
        assert job is not None and job.state == FAILED and job.attempts == 2 and job.active_font_id is None
        letters = [
            decode(m.payload)
            for m in session.query(OutboxMessage).filter_by(topic=settings.dead_letter_topic)
        ]
    assert letters == [DeadLetter(job_id, "CUDA out of memory", attempts=2)]
    assert handler.handle(JobMessage(job_id)) is Outcome.SKIPPED


def test_bad_input_fails_at_once(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    handler = make_handler(
        db, settings, FakeBuilder(fail=ValueError("only 3 glyphs: at least 150 are needed"))
    )
    assert handler.handle(JobMessage(job_id)) is Outcome.FAILED
    with db.session() as session:
        job = jobs.get_job(session, job_id)
    assert job is not None and job.attempts == 1 and job.error == "only 3 glyphs: at least 150 are needed"


def test_deleting_the_font_mid_build_stops_the_job_and_leaves_no_files(
    db: Database, settings: Settings
) -> None:
    font_id, job_id = queued_job(db)

    def delete_font() -> None:
        with db.session() as session:
            queries.delete_font(session, font_id)

    outcome = make_handler(db, settings, FakeBuilder(during=delete_font)).handle(JobMessage(job_id))
    assert outcome is Outcome.LOST
    assert not list(Path(settings.storage_dir).rglob("*.ttf"))


def test_a_build_past_its_time_limit_fails(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    strict = settings.model_copy(update={"job_time_limit_seconds": 0.0, "max_attempts": 3})
    outcome = make_handler(db, strict, FakeBuilder(during=lambda: threading.Event().wait(0.05))).handle(
        JobMessage(job_id)
    )
    assert outcome is Outcome.FAILED
    with db.session() as session:
        job = jobs.get_job(session, job_id)
    assert job is not None and "time limit" in (job.error or "")


def test_an_expired_lease_lets_another_worker_take_over(db: Database, settings: Settings) -> None:
    _, job_id = queued_job(db)
    with db.session() as session:
        first = jobs.claim_job(session, job_id, "dead-worker", -1, 3, utcnow())  # lease already over
        assert first is not None and first.state == RUNNING
    assert make_handler(db, settings, FakeBuilder()).handle(JobMessage(job_id)) is Outcome.SUCCEEDED
    with db.session() as session:
        assert not jobs.renew_lease(session, job_id, "dead-worker", 30, utcnow())
