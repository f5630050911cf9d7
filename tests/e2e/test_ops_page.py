"""The operator page in headless Chromium against a live server: it signs in with the token and shows data."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.db import jobs, operations, outbox, queries
from services.db.session import utcnow
from tests.e2e.conftest import LiveServer, serve_live
from tests.e2e.test_web_page import chromium

pytestmark = pytest.mark.browser
TOKEN = "ops-page-token"


@pytest.fixture
def ops_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a real socket (SQLite, no Kafka) with an operator token configured."""
    with serve_live(tmp_path, operator_token=TOKEN) as server:
        yield server


def job(server: LiveServer, state: str) -> str:
    """A job driven to `state` through the same transitions a worker makes."""
    with server.db.session() as session:
        font, _ = queries.create_font(session, state)
        job, _ = jobs.submit_job(session, font.id, "jobs", utcnow())
        if state == "queued":
            return job.id
        assert jobs.claim_job(session, job.id, "page-worker", 60, 1, utcnow())
        if state == "succeeded":
            assert jobs.finish_job(
                session, job.id, "page-worker", "p", {"finetune": 95.0, "package": 4.0}, utcnow()
            )
        elif state == "failed":
            jobs.record_progress(session, job.id, "page-worker", "trace", 0.8, {})
            jobs.fail_attempt(
                session,
                job.id,
                "page-worker",
                "potrace <crashed> & burned",
                retry_at=None,
                dead_letter_topic=server.settings.dead_letter_topic,
                now=utcnow(),
            )
        return job.id


def test_the_operator_page_shows_the_queue_workers_and_failures(
    ops_server: LiveServer, tmp_path: Path
) -> None:
    db = ops_server.db
    queued = [job(ops_server, "queued") for _ in range(3)]
    job(ops_server, "succeeded")
    failed = job(ops_server, "failed")
    running = job(ops_server, "running")
    with db.session() as session:
        outbox.worker_heartbeat(
            session,
            "gpu-7:99:beef",
            hostname="gpu-7",
            pid=99,
            device="cuda: NVIDIA H200",
            job_id=running,
            now=utcnow(),
        )
        operations.set_intake_paused(session, True, "kim", utcnow(), "migrating the database")

    dom = chromium(tmp_path, "--dump-dom", f"{ops_server.url}/ops#token={TOKEN}")
    assert '<div id="board">' in dom, dom[-3000:]  # shown: signed in and drawn
    assert '<div class="tile queued" id="jobs-queued"><b>3</b>queued</div>' in dom
    assert '<div class="tile failed" id="jobs-failed"><b>1</b>failed</div>' in dom
    assert '<div class="tile running" id="jobs-running"><b>1</b>running</div>' in dom
    assert "Intake PAUSED by kim (migrating the database)" in dom
    assert "<td>gpu-7:99:beef</td><td>gpu-7</td><td>cuda: NVIDIA H200</td>" in dom
    assert f"<td>{failed}</td><td>trace</td>" in dom
    assert html.escape("potrace <crashed> & burned", quote=False) in dom  # shown as text, not markup
    assert "<td>finetune</td><td>1</td><td>95 s</td><td>95 s</td>" in dom
    assert "Kafka unavailable: no Kafka broker configured" in dom
    assert "<td>kim</td><td>pause</td>" in dom  # the audit log
    # each running job with its stage, progress and elapsed time
    assert f"<td>{running}</td><td>build</td><td>starting</td><td>0%</td>" in dom
    assert "dead letters (7 days): 1" in dom and all(q not in dom for q in queued)

    shot = tmp_path / "ops.png"
    chromium(
        tmp_path, "--window-size=1200,1800", f"--screenshot={shot}", f"{ops_server.url}/ops#token={TOKEN}"
    )
    assert shot.stat().st_size > 20_000
    Path("/tmp/geulssi-ops-page.png").write_bytes(shot.read_bytes())  # for a person to look at


def test_without_a_token_the_page_asks_for_one(ops_server: LiveServer, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", f"{ops_server.url}/ops")
    assert '<section id="sign-in" class="step">' in dom and '<div id="board" hidden="">' in dom
    wrong = chromium(tmp_path, "--dump-dom", f"{ops_server.url}/ops#token=not-it")
    assert "this token is not the operator token" in wrong and '<div id="board" hidden="">' in wrong
