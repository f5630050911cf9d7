"""End-to-end fixtures: a live uvicorn server on a free port; the whole service (MariaDB, Tansu, worker)."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.config import Settings
from services.db import migrate
from services.db.session import Database
from services.queue.broker import LocalBroker, free_port
from services.storage import LocalArtifactStore
from services.worker.service import WorkerService
from tests.integration.conftest import create_database, drop_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    db: Database
    store: LocalArtifactStore


@contextlib.contextmanager
def serve_live(tmp_path: Path, **settings_overrides: object) -> Iterator[LiveServer]:
    """The app on a real socket (embedded SQLite, no Kafka), with any Settings overrides; stopped after."""
    port = free_port()
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'g.db'}",
        "storage_dir": tmp_path / "artifacts",
        "kafka_bootstrap_servers": "",
    }
    settings = Settings(**{**values, **settings_overrides})  # type: ignore[arg-type]
    db = Database(settings.database_url)
    migrate.upgrade(db.engine)
    store = LocalArtifactStore(settings.storage_dir)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db=db, store=store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, db, store)
    finally:
        server.should_exit = True
        thread.join(10)
        db.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a real socket (embedded SQLite, no Kafka), for the browser."""
    with serve_live(tmp_path) as server:
        yield server


@dataclass
class Service:
    client: TestClient
    settings: Settings
    worker: WorkerService


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """API (with its outbox relay) + one worker + a fresh MariaDB database and Tansu broker.

    The worker builds with the committed pretrained weights (a generator trained for seconds in a fixture
    draws blank glyphs often enough to make the test flaky) and a short fine-tune."""
    url = create_database("geulssi_e2e")
    broker = LocalBroker(free_port())
    broker.start()
    settings = Settings(
        database_url=url,
        storage_dir=tmp_path / "artifacts",
        work_dir=tmp_path,
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        relay_interval_seconds=0.2,
        finetune_steps=20,
        max_attempts=1,
    )
    db = Database(url)
    migrate.upgrade(db.engine)
    store = LocalArtifactStore(settings.storage_dir)
    worker = WorkerService(settings, db, store, with_relay=False).start()
    try:
        with TestClient(create_app(settings, db=db, store=store, relay=True)) as client:
            yield Service(client, settings, worker)
    finally:
        worker.stop()
        broker.stop()
        db.dispose()
        drop_database(url)


@dataclass
class LiveService:
    server: LiveServer
    worker: WorkerService


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[LiveService]:
    """The app on a real socket for the browser, with its outbox relay, a Tansu broker and one real worker
    (SQLite, as `geulssi serve` runs it), fine-tuning briefly so a whole build takes minutes, not tens."""
    broker = LocalBroker(free_port())
    broker.start()
    try:
        with serve_live(
            tmp_path,
            work_dir=tmp_path,
            kafka_bootstrap_servers=broker.bootstrap,
            kafka_session_timeout_ms=2000,
            kafka_heartbeat_interval_ms=500,
            relay_interval_seconds=0.2,
            finetune_steps=20,
            max_attempts=1,
        ) as server:
            worker = WorkerService(server.settings, server.db, server.store, with_relay=False).start()
            try:
                yield LiveService(server, worker)
            finally:
                worker.stop()
    finally:
        broker.stop()
