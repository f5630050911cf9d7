"""Re-packaging (redraw marked syllables, no fine-tune) through the real job handler and a real SQLite
database: a build keeps what a fix needs, a "repackage" job starts from it, and the wait estimate."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.config import Settings
from services.db import jobs, queries, waiting
from services.db.session import Database, utcnow
from services.db.tables import FAILED, REPACKAGE, SUCCEEDED
from services.pipeline.kept import GLYPHS, can_repackage, kept_key, restore_build, zip_dir
from services.queue.messages import JobMessage
from services.storage import LocalArtifactStore, result_key
from services.worker.handler import JobHandler, Outcome
from tests.unit.test_service_handler import FakeBuilder, queued_job


@dataclass
class BuiltFiles:
    ttf: Path
    woff2: Path
    preview: Path
    checkpoint: Path | None = None
    glyph_dir: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


class KeepingBuilder(FakeBuilder):
    """A build that also leaves a checkpoint and a glyph directory, as services.pipeline.flow does."""

    def __call__(  # type: ignore[override]
        self,
        glyphs: Mapping[int, np.ndarray],
        workdir: Path,
        family_name: str,
        *,
        options: Any,
        progress: Callable[[str, float], None],
        spacing: Mapping[str, float] | None = None,
    ) -> BuiltFiles:
        files = super().__call__(
            glyphs, workdir, family_name, options=options, progress=progress, spacing=spacing
        )
        (workdir / "writer.pt").write_bytes(b"weights")
        (workdir / "glyphs").mkdir()
        for cp in (0xAC00, 0xAC01):
            (workdir / "glyphs" / f"U+{cp:04X}.png").write_bytes(f"old {cp}".encode())
        return BuiltFiles(files.ttf, files.woff2, files.preview, workdir / "writer.pt", workdir / "glyphs")


class FakeRepackager:
    """Stands in for flow.repackage_font: rewrites the marked glyph files and writes a font."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], int, bytes]] = []

    def __call__(
        self,
        glyph_dir: Path,
        checkpoint: Path,
        workdir: Path,
        family: str,
        codepoints: list[int],
        *,
        attempt: int,
        options: Any,
        progress: Callable[[str, float], None],
    ) -> BuiltFiles:
        self.calls.append((codepoints, attempt, checkpoint.read_bytes()))
        progress("redraw", 0.5)
        for cp in codepoints:
            (glyph_dir / f"U+{cp:04X}.png").write_bytes(f"new {cp}".encode())
        progress("package", 1.0)
        out = BuiltFiles(workdir / "f.ttf", workdir / "f.woff2", workdir / "p.png", checkpoint, glyph_dir)
        for path in (out.ttf, out.woff2, out.preview):
            path.write_bytes(b"fixed " + family.encode())
        return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="sqlite://",
        storage_dir=tmp_path / "art",
        max_attempts=1,
        lease_seconds=30,
        work_dir=tmp_path,
    )


def handler(db: Database, settings: Settings, repackager: FakeRepackager | None = None) -> JobHandler:
    store = LocalArtifactStore(settings.storage_dir)
    return JobHandler(db, store, settings, builder=KeepingBuilder(), options=object(), repackager=repackager)


def built_font(db: Database, settings: Settings) -> tuple[str, str, str]:
    """A font whose build succeeded (and kept its files); returns (font, job, result prefix)."""
    font_id, job_id = queued_job(db)
    assert handler(db, settings).handle(JobMessage(job_id)) is Outcome.SUCCEEDED
    with db.session() as session:
        job = jobs.get_job(session, job_id)
        assert job is not None and job.result_prefix
        return font_id, job_id, job.result_prefix


def test_a_build_keeps_the_checkpoint_and_glyphs_a_fix_needs(db: Database, settings: Settings) -> None:
    _, _, prefix = built_font(db, settings)
    store = LocalArtifactStore(settings.storage_dir)
    assert can_repackage(store, prefix)
    names = zipfile.ZipFile(io.BytesIO(store.get(kept_key(prefix, GLYPHS)))).namelist()
    assert names == ["U+AC00.png", "U+AC01.png"]


def test_a_repackage_job_redraws_from_the_kept_files_without_a_build(
    db: Database, settings: Settings
) -> None:
    font_id, base_job, base_prefix = built_font(db, settings)
    with db.session() as session:
        params = {"base_job": base_job, "codepoints": [0xAC01], "attempt": 0}
        fix, created = jobs.submit_job(session, font_id, "jobs", utcnow(), kind=REPACKAGE, params=params)
        assert created
    repackager = FakeRepackager()
    fixing = handler(db, settings, repackager)
    assert fixing.handle(JobMessage(fix.id)) is Outcome.SUCCEEDED
    assert repackager.calls == [([0xAC01], 0, b"weights")]  # the kept checkpoint, no fine-tune
    assert fixing.builder.calls == []  # type: ignore[union-attr]
    store = LocalArtifactStore(settings.storage_dir)
    with db.session() as session:
        done = jobs.get_job(session, fix.id)
        assert done is not None and done.state == SUCCEEDED and done.kind == REPACKAGE and done.result_prefix
        assert set(done.stage_timings) == {"redraw", "package"}
        latest = jobs.latest_job(session, font_id, SUCCEEDED)
        assert latest is not None and latest.id == fix.id  # downloads now give the fixed font
    assert store.get(result_key(done.result_prefix, "ttf")) == "fixed 손글씨".encode()
    # the fixed glyphs are kept in turn, so the next fix starts from them; the base build is untouched
    glyphs = zipfile.ZipFile(io.BytesIO(store.get(kept_key(done.result_prefix, GLYPHS))))
    assert glyphs.read("U+AC01.png") == b"new 44033" and glyphs.read("U+AC00.png") == b"old 44032"
    base = zipfile.ZipFile(io.BytesIO(store.get(kept_key(base_prefix, GLYPHS))))
    assert base.read("U+AC01.png") == b"old 44033"


def test_a_repackage_whose_base_kept_nothing_fails_with_a_sentence(db: Database, settings: Settings) -> None:
    font_id, base_job, base_prefix = built_font(db, settings)
    LocalArtifactStore(settings.storage_dir).delete(kept_key(base_prefix, GLYPHS))
    with db.session() as session:
        params = {"base_job": base_job, "codepoints": [0xAC01]}
        fix, _ = jobs.submit_job(session, font_id, "jobs", utcnow(), kind=REPACKAGE, params=params)
    assert handler(db, settings, FakeRepackager()).handle(JobMessage(fix.id)) is Outcome.FAILED
    with db.session() as session:
        failed = jobs.get_job(session, fix.id)
        assert failed is not None and failed.state == FAILED
        assert "build it again" in (failed.error or "")


def test_restore_ignores_names_that_would_leave_the_directory(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("U+AC00.png", b"fine")
        archive.writestr("../escape.png", b"bad")
        archive.writestr("sub/U+AC01.png", b"bad")
    store.put("p/glyphs.zip", buffer.getvalue())
    store.put("p/writer.pt", b"w")
    glyph_dir, checkpoint = restore_build(store, "p", tmp_path / "work")
    assert sorted(p.name for p in glyph_dir.iterdir()) == ["U+AC00.png"]
    assert checkpoint.read_bytes() == b"w" and not (tmp_path / "work" / "escape.png").exists()
    assert zip_dir(glyph_dir)[:2] == b"PK"


def test_the_hand_facts_travel_with_the_kept_glyphs(tmp_path: Path) -> None:
    """A re-package must typeset like the build: the writer's measurements (.hand.json) are kept too."""
    from services.packaging.hand import load_hand, save_hand

    built = tmp_path / "built"
    built.mkdir()
    (built / "U+AC00.png").write_bytes(b"png")
    save_hand(built, written={0xAC00}, box_scale=0.62)
    store = LocalArtifactStore(tmp_path / "store")
    store.put("p/glyphs.zip", zip_dir(built))
    store.put("p/writer.pt", b"w")
    glyph_dir, _ = restore_build(store, "p", tmp_path / "work")
    assert load_hand(glyph_dir) == ({0xAC00}, 0.62)


def test_the_wait_estimate_uses_measured_stage_times_and_the_queue(db: Database) -> None:
    now = utcnow()
    with db.session() as session:
        fonts = [queries.create_font(session, f"f{i}")[0] for i in range(3)]
        # two finished builds: their stage times are the measure
        for i, seconds in enumerate((100.0, 300.0)):
            job, _ = jobs.submit_job(session, fonts[0].id, "jobs", now - timedelta(hours=1, minutes=i))
            job.state, job.active_font_id, job.finished_at = SUCCEEDED, None, now - timedelta(minutes=30)
            job.stage_timings = {
                "finetune": seconds,
                "generate": 10.0,
                "trace": 5.0,
                "normalize": 1.0,
                "package": 1.0,
            }
            session.commit()
        first, _ = jobs.submit_job(session, fonts[1].id, "jobs", now - timedelta(seconds=20))
        second, _ = jobs.submit_job(session, fonts[2].id, "jobs", now - timedelta(seconds=10))
        ahead_of_none = waiting.estimate(session, first, now, 30)
        behind_one = waiting.estimate(session, second, now, 30)
    assert ahead_of_none.measured and ahead_of_none.stage_seconds["finetune"] == 200.0
    assert ahead_of_none.ahead == 0 and behind_one.ahead == 1
    assert ahead_of_none.seconds_left == pytest.approx(217.0)
    assert behind_one.seconds_left == pytest.approx(2 * 217.0)  # no worker alive: one slot


def test_a_fix_queued_behind_a_build_waits_for_the_build_s_time(db: Database) -> None:
    now = utcnow()
    with db.session() as session:
        fonts = [queries.create_font(session, f"k{i}")[0] for i in range(2)]
        build, _ = jobs.submit_job(session, fonts[0].id, "jobs", now - timedelta(seconds=20))
        fix, _ = jobs.submit_job(
            session, fonts[1].id, "jobs", now - timedelta(seconds=10), kind=REPACKAGE, params={}
        )
        kinds = (build.kind, fix.kind)
        estimate = waiting.estimate(session, fix, now, 30)
    assert kinds == ("build", REPACKAGE) and estimate.ahead == 1
    own, ahead = sum(waiting.GUESS[REPACKAGE].values()), sum(waiting.GUESS["build"].values())
    assert estimate.seconds_left == pytest.approx(own + ahead)  # not 2 x the fix's own time


def test_without_finished_jobs_the_estimate_says_it_is_a_guess(db: Database) -> None:
    with db.session() as session:
        font, _ = queries.create_font(session, "새")
        job, _ = jobs.submit_job(session, font.id, "jobs", utcnow(), kind=REPACKAGE, params={})
        estimate = waiting.estimate(session, job, utcnow(), 30)
    assert not estimate.measured
    assert estimate.seconds_left == sum(waiting.GUESS[REPACKAGE].values())
