"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.db import migrate
from services.db.session import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database file of its own for the test."""
    database = Database(f"sqlite:///{tmp_path / 'g.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()
