"""Reliability fixtures: the integration fixtures (MariaDB database, Tansu broker, app, simulated photos).

Imported by name so pytest finds them here too; each test module adds the few fixtures only it needs.
"""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  (fixtures, found by pytest under these names)
    broker,
    client,
    db,
    kafka_settings,
    migrated,
    mysql_url,
    photos,
    settings,
    store,
)
