"""The database stopped and started again under a running API: 503 with a reason meanwhile, then work again.

The shared MariaDB at 127.0.0.1:3306 is left alone: the test runs a private MariaDB server (mariadbd on its
own data directory and port) and really stops it, then starts it again on the same data.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.api.app import create_app
from services.config import Settings
from services.db import migrate, outbox
from services.db.session import Database, utcnow
from services.queue.broker import free_port
from services.queue.messages import JobMessage
from services.storage import LocalArtifactStore
from tests.integration.test_service_relay import read_topic, unpublished
from tests.reliability.fault_kit import create_font, wait_for

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]  # the fixtures make a database on the shared server too
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"


@dataclass
class PrivateMariaDB:
    """A mariadbd of our own: no system config, no grant tables, listening on 127.0.0.1:`port` only."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def server_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        subprocess.run(
            [INSTALL_DB, "--no-defaults", f"--datadir={self.root / 'data'}", "--user=root", "--skip-test-db"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={self.root / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.root / 'sock'}",
                f"--pid-file={self.root / 'pid'}",
                f"--log-error={self.root / 'error.log'}",
                "--user=root",
                "--skip-grant-tables",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self._answers, 60), (self.root / "error.log").read_text()[-2000:]

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), waited for: afterwards the port refuses connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)
        self.process = None

    def _answers(self) -> bool:
        engine = create_engine(self.server_url, connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            engine.dispose()


@pytest.fixture
def private_db(tmp_path: Path) -> Iterator[PrivateMariaDB]:
    if not (Path(MARIADBD).is_file() and Path(INSTALL_DB).is_file()):
        pytest.skip("mariadbd and mariadb-install-db are needed to run a private MariaDB server")
    server = PrivateMariaDB(tmp_path / "mariadb", free_port())
    server.install()
    server.start()
    yield server
    server.stop()


def test_the_api_answers_503_while_the_database_is_down_and_recovers_by_itself(
    private_db: PrivateMariaDB, kafka_settings: Settings, tmp_path: Path
) -> None:
    engine = create_engine(private_db.server_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE DATABASE geulssi CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    url = f"{private_db.server_url}/geulssi?charset=utf8mb4"
    settings = kafka_settings.model_copy(update={"database_url": url})
    db = Database(url)
    migrate.upgrade(db.engine)
    app = create_app(settings, db=db, store=LocalArtifactStore(tmp_path / "artifacts"), relay=True)
    try:
        with TestClient(app) as client:
            font_id, auth = create_font(client, "버티는 글씨")
            assert client.get(f"/api/fonts/{font_id}", headers=auth).status_code == 200

            private_db.stop()
            answers = []
            for method, path in (
                ("POST", "/api/fonts"),
                ("GET", f"/api/fonts/{font_id}"),
                ("POST", f"/api/fonts/{font_id}/submit"),
                ("GET", "/api/health"),
            ):
                started = time.perf_counter()
                response = client.request(method, path, headers=auth, json={"name": "새 글씨"})
                answers.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 503, (path, response.text)
                assert "database is unavailable" in response.json()["detail"], path
                assert int(response.headers["Retry-After"]) > 0, path

            restarted = time.monotonic()
            private_db.start()  # same data directory, same port
            accepting = time.monotonic() - restarted
            assert wait_for(lambda: client.get("/api/health").status_code == 200, 60, interval=0.1)
            recovered = time.monotonic() - restarted
            # The same API object serves again, and what was written before the outage is still there.
            assert client.get(f"/api/fonts/{font_id}", headers=auth).json()["name"] == "버티는 글씨"
            assert create_font(client, "다시 쓰는 글씨")[0] != font_id
            # Its outbox relay came through too: a message written now goes out.
            with db.session() as session:
                outbox.add_message(session, settings.jobs_topic, JobMessage("after-outage"), utcnow())
            assert wait_for(lambda: unpublished(db) == 0, 60)
            topic = read_topic(settings.kafka_bootstrap_servers, settings.jobs_topic, 1)
            assert [key for key, _ in topic] == [b"after-outage"]
    finally:
        db.dispose()
    print(
        f"\ndatabase outage: 503 answered in {max(answers):.0f} ms at most; "
        f"mariadbd accepted connections {accepting:.1f} s after being started again, and the same API "
        f"answered 200 {recovered:.1f} s after that start"
    )
