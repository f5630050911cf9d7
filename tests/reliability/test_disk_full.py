"""The artifact store's disk full: a clear refusal (HTTP 507, or a failed job), and no half-written file.

The store lives on a real 4 MiB tmpfs, filled up to a few kilobytes: writes fail with ENOSPC from the kernel.
The same refusals are checked on the S3 store: moto's server behind a front that answers like a full MinIO
(HTTP 507) once a write would pass its quota. The build tests hand the worker's handler a stand-in builder
(its declared boundary) that returns files of a font's size at once: what is under test is storing the
result, not making it (a real build takes minutes).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.uploads import png_bytes
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.queue.messages import JobMessage
from services.storage import LocalArtifactStore, StorageFull
from services.worker.handler import JobHandler, Outcome
from services.worker.policy import STAGE_WEIGHTS
from tests.reliability.fault_kit import create_font, job_row
from tests.s3_server import S3Server, quota_s3

pytestmark = pytest.mark.mysql
FONT_FILE_BYTES = 700 * 1024  # a finished font of ours is about this size; two do not fit in what is left


@dataclass
class SmallDisk:
    """A mounted tmpfs: the store in `store/`, the space taken by `filler`."""

    mount: Path

    @property
    def store_dir(self) -> Path:
        return self.mount / "store"

    @property
    def filler(self) -> Path:
        return self.mount / "filler"

    def free(self) -> int:
        stat = os.statvfs(self.mount)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int) -> None:
        """Take all the space but `leave` bytes (tmpfs counts in 4 KiB pages)."""
        with self.filler.open("ab") as fh:
            fh.write(b"\0" * max(self.free() - leave, 0))

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def files(self) -> list[str]:
        """Every file in the store, temporary ones included: what the store left behind."""
        return sorted(str(p.relative_to(self.store_dir)) for p in self.store_dir.rglob("*") if p.is_file())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the full-disk tests: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "--lazy", str(root)], check=False)


def test_a_write_to_a_full_store_fails_whole_and_keeps_the_old_file(small_disk: SmallDisk) -> None:
    store = LocalArtifactStore(small_disk.store_dir)
    store.put("fonts/f1/kept.bin", b"old" * 1000)
    small_disk.fill(leave=16 * 1024)
    with pytest.raises(StorageFull, match=r"artifact store is full: fonts/f1/kept\.bin"):
        store.put("fonts/f1/kept.bin", b"new" * 100_000)
    with pytest.raises(StorageFull):
        store.put("fonts/f1/other.bin", os.urandom(200_000))
    assert store.get("fonts/f1/kept.bin") == b"old" * 1000  # replaced whole or not at all
    assert small_disk.files() == ["fonts/f1/kept.bin"]  # no temporary file left behind


def test_an_upload_to_a_full_store_answers_507_and_stores_nothing(
    small_disk: SmallDisk, settings: Settings, db: Database, photos: dict[int, bytes]
) -> None:
    store = LocalArtifactStore(small_disk.store_dir)
    with TestClient(create_app(settings, db=db, store=store, relay=False)) as client:
        font_id, auth = create_font(client, "꽉 찬 디스크")
        small_disk.fill(leave=32 * 1024)  # less than one photo
        files = [("photos", ("page3.jpg", photos[3], "image/jpeg"))]
        refused = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)
        assert refused.status_code == 507, refused.text
        assert "no room left to store files" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) > 0
        assert small_disk.files() == []
        status = client.get(f"/api/fonts/{font_id}", headers=auth).json()
        assert status["pages"] == [] and status["glyphs"]["latin_ok"] == 0

        small_disk.empty()  # an operator frees space: the same upload goes through
        accepted = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)
        assert accepted.status_code == 200, accepted.text
        assert len(small_disk.files()) == 2  # the photo and its contact sheet


@dataclass
class Files:
    ttf: Path
    woff2: Path
    preview: Path


def font_sized_files(
    glyphs: Mapping[int, np.ndarray],
    workdir: Path,
    family_name: str,
    *,
    options: Any,
    progress: Callable[[str, float], None],
    spacing: Mapping[str, float] | None = None,
) -> Files:
    """Stands in for build_font: reports every stage, returns a font's worth of files in `workdir`."""
    for stage in STAGE_WEIGHTS:
        progress(stage, 1.0)
    files = Files(workdir / "font.ttf", workdir / "font.woff2", workdir / "preview.png")
    for path in (files.ttf, files.woff2, files.preview):
        path.write_bytes(os.urandom(FONT_FILE_BYTES))
    return files


def queued_build(db: Database, settings: Settings, name: str) -> str:
    """A font with three written glyphs and its build queued; returns the job's id."""
    ink = np.full((40, 40), 255, np.uint8)
    ink[10:30, 18:22] = 0
    cells = [queries.GlyphCell(0xAC00 + i, "ok", png_bytes(ink)) for i in range(3)]
    with db.session() as session:
        font, _ = queries.create_font(session, name)
        queries.replace_pages(session, font.id, [queries.PageWrite(1, "p.jpg", "k1", "k2", {}, cells)])
        job, _ = jobs.submit_job(session, font.id, settings.jobs_topic, utcnow())
        return job.id


def test_a_build_whose_result_does_not_fit_fails_clearly_and_leaves_no_font_file(
    small_disk: SmallDisk, settings: Settings, db: Database, tmp_path: Path
) -> None:
    job_id = queued_build(db, settings, "넘치는 글씨")
    settings = settings.model_copy(update={"max_attempts": 2, "work_dir": tmp_path})
    store = LocalArtifactStore(small_disk.store_dir)
    handler = JobHandler(db, store, settings, builder=font_sized_files, options=object())
    small_disk.fill(leave=FONT_FILE_BYTES + 200 * 1024)  # the TTF fits, the WOFF2 after it does not

    assert handler.handle(JobMessage(job_id)) is Outcome.RETRY
    first = job_row(db, job_id)
    assert first.state == "queued" and first.error and "artifact store is full" in first.error
    assert small_disk.files() == []  # the TTF that did fit was removed with the rest

    assert handler.handle(JobMessage(job_id)) is Outcome.FAILED
    last = job_row(db, job_id)
    assert last.state == "failed" and last.attempts == 2 and last.result_prefix is None
    assert last.error and "font.woff2 could not be stored" in last.error
    assert small_disk.files() == []


def test_an_upload_to_a_full_s3_store_answers_507_and_stores_nothing(
    s3_server: S3Server, settings: Settings, db: Database, photos: dict[int, bytes]
) -> None:
    bucket = s3_server.new_bucket()
    with (
        quota_s3(s3_server, bucket, capacity=32 * 1024) as front,  # less than one photo
        TestClient(create_app(settings, db=db, store=front.store(bucket), relay=False)) as client,
    ):
        font_id, auth = create_font(client, "꽉 찬 버킷")
        files = [("photos", ("page3.jpg", photos[3], "image/jpeg"))]
        refused = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)
        assert refused.status_code == 507, refused.text
        assert "no room left to store files" in refused.json()["detail"]
        assert s3_server.keys(bucket) == []
        assert client.get(f"/api/fonts/{font_id}", headers=auth).json()["pages"] == []

        front.capacity = 64 * 1024 * 1024  # an operator frees space: the same upload goes through
        accepted = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)
        assert accepted.status_code == 200, accepted.text
        assert len(s3_server.keys(bucket)) == 2  # the photo and its contact sheet


def test_a_build_whose_result_does_not_fit_in_s3_fails_clearly_and_leaves_no_font_file(
    s3_server: S3Server, settings: Settings, db: Database, tmp_path: Path
) -> None:
    job_id = queued_build(db, settings, "넘치는 버킷")
    settings = settings.model_copy(update={"max_attempts": 2, "work_dir": tmp_path})
    bucket = s3_server.new_bucket()
    with quota_s3(s3_server, bucket, capacity=FONT_FILE_BYTES + 200 * 1024) as front:  # the TTF fits
        handler = JobHandler(db, front.store(bucket), settings, builder=font_sized_files, options=object())
        assert handler.handle(JobMessage(job_id)) is Outcome.RETRY
        first = job_row(db, job_id)
        assert first.state == "queued" and first.error and "artifact store" in first.error
        assert "is full" in first.error
        assert s3_server.keys(bucket) == []  # the TTF that did fit was removed with the rest

        assert handler.handle(JobMessage(job_id)) is Outcome.FAILED
        last = job_row(db, job_id)
        assert last.state == "failed" and last.attempts == 2 and last.result_prefix is None
        assert last.error and "font.woff2 could not be stored" in last.error
        assert s3_server.keys(bucket) == []
