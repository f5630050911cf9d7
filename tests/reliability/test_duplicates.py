"""The same thing twice at once: one job message on two partitions, one photo uploaded in two requests.

What tests/integration already covers is not repeated here: a finished job's duplicate messages
(test_service_worker), a page uploaded again later (test_service_api), two submits at once
(test_service_jobs). The slow test_broker_restart build also gets its message twice and builds once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from sqlalchemy import func, select

from services.api.uploads import png_bytes
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.db.tables import Glyph, Page
from services.queue.messages import JobMessage, encode
from services.storage import LocalArtifactStore
from services.worker.handler import Outcome
from services.worker.policy import STAGE_WEIGHTS
from services.worker.service import WorkerService
from tests.reliability.fault_kit import create_font, font_jobs, wait_for

pytestmark = [pytest.mark.mysql]


def counts(db: Database, font_id: str) -> tuple[int, int]:
    """(page rows, glyph rows) of the font."""
    with db.session() as session:
        pages = session.scalar(select(func.count()).select_from(Page).where(Page.font_id == font_id))
        glyphs = session.scalar(select(func.count()).select_from(Glyph).where(Glyph.font_id == font_id))
    return int(pages or 0), int(glyphs or 0)


def write_twice_at_once(db: Database, font_id: str, cells: list[queries.GlyphCell]) -> list[list[str]]:
    """Store the same page from two threads released together; each returns the keys it replaced."""
    barrier = threading.Barrier(2)

    def write(n: int) -> list[str]:
        barrier.wait()
        with db.session() as session:
            page = queries.PageWrite(1, "p.jpg", f"photo{n}", f"sheet{n}", {}, cells)
            return queries.replace_pages(session, font_id, [page])

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(write, (1, 2)))


def test_two_writes_of_the_same_page_at_once_both_succeed_into_one_page(db: Database) -> None:
    cells = [queries.GlyphCell(0xAC00 + i, "ok", b"png") for i in range(100)]
    for _ in range(3):  # the two transactions overlap most rounds; any overlap used to fail one of them
        with db.session() as session:
            font, _ = queries.create_font(session, "두 번 누름")
        replaced = write_twice_at_once(db, font.id, cells)
        assert counts(db, font.id) == (1, 100)
        # Exactly one of the two replaced the other, whose files it hands back for deletion.
        assert sorted(map(len, replaced)) == [0, 2]


def test_the_same_photo_uploaded_twice_at_once_makes_one_page(
    client: TestClient, db: Database, store: LocalArtifactStore, photos: dict[int, bytes]
) -> None:
    font_id, auth = create_font(client, "두 번 올림")
    files = [("photos", ("page3.jpg", photos[3], "image/jpeg"))]
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files), (1, 2))
        )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    cells = answers[0].json()["pages"][0]["cells_total"]
    assert counts(db, font_id) == (1, cells)
    stored = sorted(p.name for p in (store.root / "fonts" / font_id).rglob("*") if p.is_file())
    assert len(stored) == 2, stored  # the photo and its contact sheet, once


@dataclass
class Files:
    ttf: Path
    woff2: Path
    preview: Path


class HeldBuilder:
    """Stands in for build_font (the handler's boundary): holds the build until `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

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
        self.calls += 1
        self.release.wait(60)
        for stage in STAGE_WEIGHTS:
            progress(stage, 1.0)
        files = Files(workdir / "font.ttf", workdir / "font.woff2", workdir / "preview.png")
        for path in (files.ttf, files.woff2, files.preview):
            path.write_bytes(b"built once")
        return files


@pytest.mark.kafka
def test_one_job_message_on_two_partitions_is_built_once(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore
) -> None:
    ink = np.full((40, 40), 255, np.uint8)
    ink[10:30, 18:22] = 0
    with db.session() as session:
        font, _ = queries.create_font(session, "한 번만")
        cells = [queries.GlyphCell(0xAC00, "ok", png_bytes(ink))]
        queries.replace_pages(session, font.id, [queries.PageWrite(1, "p.jpg", "k1", "k2", {}, cells)])
        job, _ = jobs.submit_job(session, font.id, kafka_settings.jobs_topic, utcnow())
    builder = HeldBuilder()
    workers = [
        WorkerService(kafka_settings, db, store, builder=builder, options=object(), with_relay=False).start()
        for _ in range(2)
    ]
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap_servers)
    try:
        joined = wait_for(lambda: all(w.loop.consumer and w.loop.consumer.assignment() for w in workers), 60)
        assert joined, "the two workers did not both get a partition"
        for partition in (0, 1):  # the same message, as a producer retry or a second relay might send it
            producer.send(kafka_settings.jobs_topic, encode(JobMessage(job.id)), partition=partition).get(10)
        handled = lambda: [outcome for w in workers for _, outcome in w.loop.handled]  # noqa: E731
        assert wait_for(lambda: Outcome.SKIPPED in handled(), 60), "the second delivery was not skipped"
        builder.release.set()
        assert wait_for(lambda: len(handled()) == 2, 60), handled()
    finally:
        builder.release.set()
        producer.close()
        for worker in workers:
            worker.stop()
    assert sorted(handled()) == sorted([Outcome.SUCCEEDED, Outcome.SKIPPED])
    assert builder.calls == 1
    [done] = font_jobs(db, font.id)
    assert done.state == "succeeded" and done.attempts == 1
    assert sorted(p.name for p in (store.root / "fonts" / font.id / "builds" / job.id).iterdir()) == ["1"]
