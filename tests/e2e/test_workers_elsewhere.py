"""A font builds with the API and a worker in separate processes that share no disk: only MySQL, Kafka and S3.

Each process runs `geulssi api` / `geulssi worker` from its own empty working directory, configured only
through the environment, as on two hosts. Photos, the template and the finished font travel through S3
(moto's server over HTTP); nothing lands in either directory.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fontTools.ttLib import TTFont

from services.db import migrate
from services.db.session import Database
from services.queue.broker import LocalBroker, free_port
from tests.integration.conftest import create_database, drop_database
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.simulator import simulate_photo

pytestmark = [pytest.mark.mysql, pytest.mark.kafka, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACT_SUFFIXES = {".jpg", ".png", ".pdf", ".ttf", ".woff2"}


@contextlib.contextmanager
def geulssi(command: str, cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run `geulssi COMMAND` in its own directory; stop it (SIGTERM, then SIGKILL) afterwards."""
    cwd.mkdir(parents=True, exist_ok=True)
    log = (cwd.parent / f"{command}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", command], cwd=cwd, env=env, stdout=log, stderr=log
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for_api(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the API exited: {log.read_text()[-3000:]}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"the API did not answer: {log.read_text()[-3000:]}")


def artifacts_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix in ARTIFACT_SUFFIXES]


@pytest.mark.timeout(3600)  # a CPU build on the shared 2-core VM took over 15 minutes under load
def test_a_worker_on_another_host_builds_the_font(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    url = create_database("geulssi_s3e2e")
    broker = LocalBroker(free_port())
    broker.start()
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    port, tag = free_port(), secrets.token_hex(3)
    common = {k: v for k, v in os.environ.items() if not k.startswith(("GEULSSI_", "AWS_"))}
    common |= {
        "PYTHONPATH": str(ROOT),
        "GEULSSI_DATABASE_URL": url,
        "GEULSSI_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "GEULSSI_STORAGE_URL": f"s3://{bucket}/site",
        "GEULSSI_S3_ENDPOINT_URL": s3_server.endpoint,
        "GEULSSI_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "GEULSSI_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "GEULSSI_S3_REGION": REGION,
        "GEULSSI_JOBS_TOPIC": f"jobs-{tag}",
        "GEULSSI_DEAD_LETTER_TOPIC": f"dead-{tag}",
        "GEULSSI_CONSUMER_GROUP": f"workers-{tag}",
        "GEULSSI_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "GEULSSI_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "GEULSSI_RELAY_INTERVAL_SECONDS": "0.2",
    }
    api_env = common | {"GEULSSI_PORT": str(port)}
    worker_env = common | {
        "GEULSSI_WORK_DIR": str(tmp_path / "worker" / "scratch"),
        "GEULSSI_FINETUNE_STEPS": "20",
        "GEULSSI_MAX_ATTEMPTS": "1",
        "GEULSSI_DEVICE": "cpu",
    }
    (tmp_path / "worker" / "scratch").mkdir(parents=True)
    api = f"http://127.0.0.1:{port}"
    try:
        with (
            geulssi("api", tmp_path / "api", api_env) as api_process,
            geulssi("worker", tmp_path / "worker", worker_env),
        ):
            wait_for_api(api, api_process, tmp_path / "api.log")
            started = time.monotonic()
            status = build_a_font(api)
            timings = status["job"]["stage_timings"]
            print(f"\nupload to finished font: {time.monotonic() - started:.0f} s; stages {timings}")
            assert status["job"]["state"] == "succeeded", (
                f"{status['job']}\n--- worker log:\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
            )
            auth = {"Authorization": f"Bearer {status['token']}"}
            ttf = httpx.get(api + status["downloads"]["ttf"], headers=auth, timeout=60)
            assert ttf.status_code == 200
            assert int(ttf.headers["Content-Length"]) == len(ttf.content)
            cmap = TTFont(io.BytesIO(ttf.content)).getBestCmap()
            assert all(cp in cmap for cp in range(0xAC00, 0xD7A4)), "the font misses Hangul syllables"
            font_id = status["font_id"]
        keys = s3_server.keys(bucket)
        assert f"site/fonts/{font_id}/builds/{status['job']['id']}/1/font.ttf" in keys
        assert any(k.startswith(f"site/fonts/{font_id}/pages/") for k in keys)
        assert not artifacts_in(tmp_path / "api"), "the API wrote artifacts to its own disk"
        assert not artifacts_in(tmp_path / "worker"), "the worker left artifacts on its own disk"
    finally:
        broker.stop()
        drop_database(url)


def build_a_font(api: str) -> dict:
    """Create a font, upload the three simulated pages, submit, and poll until the job ends."""
    created = httpx.post(f"{api}/api/fonts", json={"name": "떨어진 일꾼"}, timeout=30).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    photos = [
        ("photos", (f"page{page}.jpg", simulate_photo(page, seed=70 + page)[0], "image/jpeg"))
        for page in (1, 2, 3)
    ]
    uploaded = httpx.post(f"{api}/api/fonts/{created['id']}/pages", headers=auth, files=photos, timeout=300)
    assert uploaded.status_code == 200, uploaded.text
    submitted = httpx.post(f"{api}/api/fonts/{created['id']}/submit", headers=auth, timeout=30)
    assert submitted.status_code == 202, submitted.text
    started, status = time.monotonic(), {}
    while time.monotonic() - started < 1800:
        status = httpx.get(f"{api}/api/fonts/{created['id']}", headers=auth, timeout=30).json()
        if status["job"]["state"] in ("succeeded", "failed"):
            break
        time.sleep(1.0)
    return status | {"font_id": created["id"], "token": created["token"]}
