"""Migrations against MariaDB: up creates the schema the tables describe (utf8mb4), down removes it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from services.db import migrate
from services.db.session import Database, DatabaseNotMigrated
from services.db.tables import Base
from tests.integration.conftest import create_database, drop_database

pytestmark = pytest.mark.mysql


@pytest.fixture
def empty_db():  # type: ignore[no-untyped-def]
    url = create_database("geulssi_migrate")
    database = Database(url)
    yield database
    database.dispose()
    drop_database(url)


def test_up_down_up(empty_db: Database) -> None:
    engine = empty_db.engine
    with pytest.raises(DatabaseNotMigrated, match="run `geulssi migrate`"):
        migrate.require_migrated(engine)

    migrate.upgrade(engine)
    migrate.require_migrated(engine)
    names = set(inspect(engine).get_table_names())
    assert {"fonts", "pages", "glyphs", "jobs", "outbox", "workers", "operator_actions"} <= names
    assert "service_flags" in names
    with engine.connect() as connection:
        collations = set(
            connection.execute(
                text(
                    "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                    "AND TABLE_NAME <> 'alembic_version'"
                )
            ).scalars()
        )
        # The migration and the table classes describe the same schema.
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert collations == {"utf8mb4_unicode_ci"}
    assert [d for d in diff if d[0] != "remove_table"] == []

    migrate.downgrade(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    with pytest.raises(DatabaseNotMigrated, match="never migrated"):
        migrate.require_migrated(engine)

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()

    # One step down removes only the operator tables (0002), and up again brings them back.
    migrate.downgrade(engine, "0001")
    names = set(inspect(engine).get_table_names())
    assert "operator_actions" not in names and "service_flags" not in names and "jobs" in names
    migrate.upgrade(engine)
    assert {"operator_actions", "service_flags"} <= set(inspect(engine).get_table_names())


def test_hangul_and_emoji_survive_a_round_trip(db: Database) -> None:
    from services.db import queries

    with db.session() as session:
        font, _ = queries.create_font(session, "내 손글씨 ✍️😀")
    with db.session() as session:
        again = queries.get_font(session, font.id)
    assert again is not None and again.name == "내 손글씨 ✍️😀"
