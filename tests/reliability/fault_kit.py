"""What the fault tests share: fonts ready to build, workers as real processes, reading jobs and topics."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont
from sqlalchemy import select

from services.config import Settings
from services.db.session import Database
from services.db.tables import Job
from tests.simulator import simulate_photo

REPO = Path(__file__).resolve().parents[2]
SYLLABLES = range(0xAC00, 0xD7A4)


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@functools.lru_cache(maxsize=1)
def filled_pages() -> tuple[tuple[str, bytes], ...]:
    """Simulated photos of the three filled template pages, every Hangul cell readable (e2e seeds)."""
    return tuple((f"page{page}.jpg", simulate_photo(page, seed=70 + page)[0]) for page in (1, 2, 3))


def create_font(client: TestClient, name: str) -> tuple[str, dict[str, str]]:
    """Create a font through the API; return its id and the Authorization header."""
    response = client.post("/api/fonts", json={"name": name})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def ready_font(client: TestClient, name: str) -> tuple[str, dict[str, str]]:
    """A font whose three pages were uploaded and read: ready to submit."""
    font_id, auth = create_font(client, name)
    files = [("photos", (file, data, "image/jpeg")) for file, data in filled_pages()]
    uploaded = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)
    assert uploaded.status_code == 200, uploaded.text
    return font_id, auth


def submit(client: TestClient, font_id: str, auth: dict[str, str]) -> str:
    """Queue the font's build; return the job id."""
    response = client.post(f"/api/fonts/{font_id}/submit", headers=auth)
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])


def font_jobs(db: Database, font_id: str) -> list[Job]:
    """Every job of the font, read fresh from the database."""
    with db.session() as session:
        return list(
            session.scalars(
                select(Job).where(Job.font_id == font_id).execution_options(populate_existing=True)
            )
        )


def job_row(db: Database, job_id: str) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id, populate_existing=True)
    assert job is not None, f"job {job_id} is gone"
    return job


def missing_syllables(ttf: bytes) -> list[int]:
    """The Hangul syllables (U+AC00..U+D7A3) the font's cmap does not map."""
    import io

    cmap = TTFont(io.BytesIO(ttf)).getBestCmap()
    return [cp for cp in SYLLABLES if cp not in cmap]


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as the GEULSSI_* variables a `geulssi` process reads (unset values left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEULSSI_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"GEULSSI_{name.upper()}"] = str(value)
    return env


class WorkerProcess:
    """`geulssi worker` in its own process, its output kept in a log file."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "worker"],
            cwd=REPO,
            env=settings_env(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye; the job it held keeps its lease until the lease runs out."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()

    def output(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
