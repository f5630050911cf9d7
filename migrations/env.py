"""Alembic environment: migrate the connection handed over by services.db.migrate, or GEULSSI_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from services.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`)."""
    from services.config import get_settings

    context.configure(url=get_settings().database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through a live connection; SQLite needs batch mode to alter tables."""
    connection = config.attributes.get("connection")
    if connection is None:
        from services.config import get_settings
        from services.db.session import make_engine

        engine = make_engine(get_settings().database_url)
        with engine.begin() as own:
            _migrate(own)
        engine.dispose()
    else:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
