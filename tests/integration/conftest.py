"""Integration fixtures: a fresh MariaDB database and a Tansu broker per test session, the app on top of them.

The MariaDB server at 127.0.0.1:3306 (root, no password) is reused; each session creates its own uniquely
named database and drops it at the end, so parallel runs do not collide. Override the server with
GEULSSI_TEST_MYSQL_URL (a URL without a database name).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.api.app import create_app
from services.config import Settings
from services.db import migrate
from services.db.session import Database
from services.queue.broker import LocalBroker, free_port
from services.storage import LocalArtifactStore

SERVER_URL = os.environ.get("GEULSSI_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
TABLES = ("glyphs", "pages", "outbox", "workers", "jobs", "fonts", "operator_actions", "service_flags")


def create_database(prefix: str) -> str:
    """Create an empty utf8mb4 database with a unique name; return its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    server = create_engine(SERVER_URL, connect_args={"connect_timeout": 3})
    try:
        with server.begin() as connection:
            connection.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    except Exception as exc:
        pytest.skip(f"MariaDB/MySQL is not reachable at {SERVER_URL}: {exc}")
    finally:
        server.dispose()
    return f"{SERVER_URL}/{name}?charset=utf8mb4"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    server = create_engine(SERVER_URL)
    with server.begin() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    url = create_database("geulssi_test")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def migrated(mysql_url: str) -> Iterator[Database]:
    database = Database(mysql_url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated: Database) -> Database:
    """The session's migrated database, emptied before each test."""
    with migrated.engine.begin() as connection:
        for table in TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
    return migrated


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    local = LocalBroker(free_port())
    local.start()
    yield local
    local.stop()


@pytest.fixture
def settings(mysql_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own topics and consumer group, fast consumer timeouts (Tansu)."""
    tag = secrets.token_hex(3)
    return Settings(
        database_url=mysql_url,
        storage_dir=tmp_path / "artifacts",
        work_dir=tmp_path,
        kafka_bootstrap_servers="",
        jobs_topic=f"jobs-{tag}",
        dead_letter_topic=f"dead-{tag}",
        consumer_group=f"workers-{tag}",
        jobs_topic_partitions=2,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        kafka_request_timeout_ms=3000,
        relay_interval_seconds=0.1,
        retry_backoff_seconds=0,
        device="cpu",
    )


@pytest.fixture
def kafka_settings(settings: Settings, broker: LocalBroker) -> Settings:
    return settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})


@pytest.fixture
def store(settings: Settings) -> LocalArtifactStore:
    return LocalArtifactStore(settings.storage_dir)


@pytest.fixture
def client(settings: Settings, db: Database, store: LocalArtifactStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db, store=store, relay=False)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def photos() -> dict[int, bytes]:
    """Simulated phone photos of the three filled template pages (page -> JPEG), made once per session."""
    from tests.simulator import simulate_photo

    return {page: simulate_photo(page, seed=40 + page)[0] for page in (1, 2, 3)}
