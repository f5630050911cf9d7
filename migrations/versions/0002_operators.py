"""Operators: audit log, service switches (intake paused), and an index for the summary.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the column types in services/db/tables.py as they were at this revision.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table(
        "operator_actions",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("worker_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        **MYSQL,
    )
    op.create_index("ix_operator_actions_at", "operator_actions", ["at"])
    op.create_table(
        "service_flags",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_jobs_state_finished", "jobs", ["state", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state_finished", table_name="jobs")
    op.drop_table("service_flags")
    op.drop_table("operator_actions")
