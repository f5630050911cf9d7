"""The database: tables, engine and sessions, migrations, and every query and state transition."""
