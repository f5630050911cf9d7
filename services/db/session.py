"""Engines and sessions: one Database per process, with the settings MySQL and SQLite each need."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached (down, wrong address or credentials)."""


class DatabaseNotMigrated(RuntimeError):
    """The database schema is missing or older than this code."""


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores UTC without a zone (MySQL DATETIME has none)."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """Return an engine for a MySQL/MariaDB or SQLite URL.

    MySQL: utf8mb4 on the connection (Hangul and anything else), pre-ping so a restarted server
    costs one retry instead of an error. SQLite (the embedded default): WAL and a busy timeout so the
    API, the worker and the relay threads can share one file, and foreign keys switched on.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        # READ COMMITTED: no gap locks, so a relay holding outbox rows while Kafka is slow never blocks
        # the inserts of new jobs; every transition here is a single conditional UPDATE anyway.
        kwargs.update(
            pool_size=pool_size, max_overflow=pool_size, pool_recycle=3600, isolation_level="READ COMMITTED"
        )
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_outage(exc: BaseException) -> bool:
    """True when an error means the database is unreachable rather than a bug in a query."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(
            word in text
            for word in (
                "can't connect",
                "lost connection",
                "gone away",
                "connection refused",
                "timed out",
                "database is locked",
                "unable to open database",
                "access denied",
            )
        )
    return False


class Database:
    """An engine and its session factory. Build one per process and pass it where it is needed."""

    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of work; the query functions commit, this rolls back what they left."""
        with self.sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
