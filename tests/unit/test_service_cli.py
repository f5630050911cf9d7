"""The service commands on SQLite: migrate brings the schema up (and down); api refuses an unmigrated DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from services.cli.main import main
from services.config import get_settings
from services.db.migrate import head_revision


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GEULSSI_DATABASE_URL", url)
    monkeypatch.setenv("GEULSSI_STORAGE_DIR", str(tmp_path / "artifacts"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_api_and_worker_refuse_an_unmigrated_database(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api"]) == 2
    assert "database is not migrated (never migrated): run `geulssi migrate`" in capsys.readouterr().err


def test_worker_needs_a_broker(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEULSSI_KAFKA_BOOTSTRAP_SERVERS", "")
    assert main(["worker"]) == 2
    assert "GEULSSI_KAFKA_BOOTSTRAP_SERVERS" in capsys.readouterr().err


def test_migrate_up_and_down(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert {"fonts", "pages", "glyphs", "jobs", "outbox", "workers", "operator_actions"} <= tables(database)
    assert f"at revision {head_revision()}" in capsys.readouterr().out
    assert main(["migrate", "--down"]) == 0
    assert tables(database) <= {"alembic_version"}
    assert "base (empty)" in capsys.readouterr().out


def test_the_app_refuses_to_start_on_an_unmigrated_database(database: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from services.config import Settings
    from services.db.session import DatabaseNotMigrated

    app = create_app(Settings(database_url=database, storage_dir=tmp_path), relay=False)
    with pytest.raises(DatabaseNotMigrated, match="run `geulssi migrate`"), TestClient(app):
        pass
    assert main(["migrate"]) == 0
    with TestClient(app) as client:
        assert client.get("/api/health").json() == {"status": "ok"}
