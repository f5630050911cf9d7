"""Alembic from code: upgrade, downgrade, and the check that refuses to run on an unmigrated database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from services.db.session import DatabaseNotMigrated, DatabaseUnavailable, is_outage

# The repository's migrations/ (next to services/); an installed copy of the code looks in the working dir.
_REPO_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
MIGRATIONS_DIR = _REPO_MIGRATIONS if _REPO_MIGRATIONS.is_dir() else Path.cwd() / "migrations"


def alembic_config() -> Config:
    """The Alembic config of migrations/alembic.ini (the engine is handed over per call, not read from it)."""
    ini = MIGRATIONS_DIR / "alembic.ini"
    if not ini.is_file():
        raise FileNotFoundError(f"the migrations are missing: {ini} does not exist")
    config = Config(str(ini))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision in migrations/versions."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise FileNotFoundError(f"no migrations found under {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        if is_outage(exc):
            raise DatabaseUnavailable(f"cannot reach the database: {exc.orig}") from exc
        raise


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to `revision` (default: the newest)."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (default: empty)."""
    _run(engine, "downgrade", revision)


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    except OperationalError as exc:
        if not is_outage(exc):
            raise
        raise DatabaseUnavailable(f"cannot reach the database: {exc.orig}") from exc


def require_migrated(engine: Engine) -> None:
    """Raise DatabaseNotMigrated unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "never migrated" if current is None else f"at revision {current}, the code needs {head}"
        raise DatabaseNotMigrated(f"database is not migrated ({state}): run `geulssi migrate`")
