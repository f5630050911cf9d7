"""Requests racing each other on one font (delete, upload, submit, retry, cancel) end in a clear 2xx/404/409,
never a 5xx, and leave nothing behind: checked on SQLite (the embedded default) and on MariaDB.

Each race sends its requests from threads released together by a barrier, several rounds over, through the
real app and the real database; which one wins varies, and every outcome must be a clean one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.api.app import create_app
from services.api.pages import store_pages
from services.api.template import template_index
from services.api.uploads import extract_pages
from services.config import Settings
from services.db import jobs, migrate, queries
from services.db.session import Database, utcnow
from services.storage import LocalArtifactStore

OPERATOR = {"Authorization": "Bearer race-operator-" + "r" * 32}
ROUNDS = 4
Call = Callable[[], httpx.Response]


@dataclass
class Site:
    client: TestClient
    db: Database
    store: LocalArtifactStore

    def create_font(self) -> tuple[str, dict[str, str]]:
        response = self.client.post("/api/fonts", json={"name": "경주"})
        assert response.status_code == 201, response.text
        return response.json()["id"], {"Authorization": f"Bearer {response.json()['token']}"}

    def ready_font(self) -> tuple[str, dict[str, str]]:
        """A font whose every template cell is usable (rows written as an upload would), ready to submit."""
        font_id, auth = self.create_font()
        index = template_index()
        writes = [
            queries.PageWrite(
                page,
                f"page{page}.jpg",
                f"fonts/{font_id}/pages/{page}-x.jpg",
                f"fonts/{font_id}/pages/{page}-s.png",
                {},
                [queries.GlyphCell(c.codepoint, "ok", None) for c in index.cells.values() if c.page == page],
            )
            for page in range(1, index.pages + 1)
        ]
        with self.db.session() as session:
            queries.replace_pages(session, font_id, writes)
        return font_id, auth

    def rows_of(self, font_id: str) -> dict[str, int]:
        with self.db.engine.connect() as connection:
            return {
                table: connection.execute(
                    text(f"SELECT COUNT(*) FROM {table} WHERE {column} = :f"), {"f": font_id}
                ).scalar_one()
                for table, column in (
                    ("fonts", "id"),
                    ("pages", "font_id"),
                    ("glyphs", "font_id"),
                    ("jobs", "font_id"),
                )
            }

    def assert_gone(self, font_id: str) -> None:
        assert self.rows_of(font_id) == {"fonts": 0, "pages": 0, "glyphs": 0, "jobs": 0}
        assert not (self.store.root / "fonts" / font_id).exists()  # not even an empty folder


@pytest.fixture(params=["sqlite", "mysql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    if request.param == "mysql":
        db: Database = request.getfixturevalue("db")  # the session's MariaDB database, emptied
    else:
        db = Database(f"sqlite:///{tmp_path / 'races.db'}")
        migrate.upgrade(db.engine)
    settings = Settings(
        database_url=db.url,
        storage_dir=tmp_path / "artifacts",
        kafka_bootstrap_servers="",
        operator_token=OPERATOR["Authorization"][7:],
    )
    store = LocalArtifactStore(settings.storage_dir)
    with TestClient(create_app(settings, db=db, store=store, relay=False)) as client:
        yield Site(client, db, store)
    if request.param == "sqlite":
        db.dispose()


def race(*calls: Call) -> list[httpx.Response]:
    """Run the calls at the same moment, each in its own thread; their answers in the same order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_clean(responses: list[httpx.Response], allowed: set[int]) -> None:
    for response in responses:
        assert response.status_code in allowed, (response.status_code, response.text)
        if response.status_code >= 400:
            assert isinstance(response.json()["detail"], str) and len(response.json()["detail"]) > 10


def test_delete_racing_submits(site: Site) -> None:
    for _ in range(ROUNDS):
        font_id, auth = site.ready_font()
        submit = partial(site.client.post, f"/api/fonts/{font_id}/submit", headers=auth)
        delete = partial(site.client.delete, f"/api/fonts/{font_id}", headers=auth)
        answers = race(submit, submit, delete, submit, submit)
        assert_clean(answers, {202, 204, 404})
        assert answers[2].status_code == 204
        site.assert_gone(font_id)


def test_two_deletes_one_wins(site: Site) -> None:
    for _ in range(ROUNDS):
        font_id, auth = site.ready_font()
        delete = partial(site.client.delete, f"/api/fonts/{font_id}", headers=auth)
        answers = race(delete, delete)
        assert_clean(answers, {204, 404})
        assert sorted(a.status_code for a in answers)[0] == 204
        site.assert_gone(font_id)


def failed_job(site: Site, font_id: str) -> str:
    with site.db.session() as session:
        job, _ = jobs.submit_job(session, font_id, "jobs-races", utcnow())
        assert jobs.claim_job(session, job.id, "race-worker", 60, 3, utcnow())
        state = jobs.fail_attempt(
            session,
            job.id,
            "race-worker",
            "boom",
            retry_at=None,
            dead_letter_topic="dead-races",
            now=utcnow(),
        )
        assert state == "failed"
        return job.id


def test_operator_actions_racing_a_delete_and_a_submit(site: Site) -> None:
    for _ in range(ROUNDS):
        font_id, auth = site.ready_font()
        job_id = failed_job(site, font_id)
        answers = race(
            partial(site.client.post, f"/api/ops/jobs/{job_id}/retry", headers=OPERATOR),
            partial(site.client.post, f"/api/ops/jobs/{job_id}/cancel", headers=OPERATOR),
            partial(site.client.post, f"/api/fonts/{font_id}/submit", headers=auth),
            partial(site.client.delete, f"/api/fonts/{font_id}", headers=auth),
        )
        assert_clean(answers, {200, 202, 204, 404, 409})
        assert answers[3].status_code == 204
        site.assert_gone(font_id)


def test_an_upload_that_loses_to_a_delete_leaves_nothing(site: Site, photos: dict[int, bytes]) -> None:
    """The photo is read, the font is deleted, then the upload stores its pages: 404 and not even a folder."""
    font_id, auth = site.create_font()
    pages = extract_pages([("page1.jpg", photos[1])], 50_000_000)
    assert site.client.delete(f"/api/fonts/{font_id}", headers=auth).status_code == 204
    with pytest.raises(HTTPException) as refused:
        store_pages(site.db, site.store, font_id, pages)
    assert refused.value.status_code == 404
    site.assert_gone(font_id)


def test_delete_during_an_upload_over_http(site: Site, photos: dict[int, bytes]) -> None:
    font_id, auth = site.create_font()
    files = [("photos", ("page2.jpg", photos[2], "image/jpeg"))]
    answers = race(
        lambda: site.client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files),
        lambda: site.client.delete(f"/api/fonts/{font_id}", headers=auth),
    )
    assert_clean(answers, {200, 204, 404})
    assert answers[1].status_code == 204
    site.assert_gone(font_id)
