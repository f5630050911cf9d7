"""Initial schema: fonts, pages, glyphs, jobs, outbox, workers.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types in services/db/tables.py as they were at this revision.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BLOB = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
LONGTEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table(
        "fonts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "pages",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("font_id", sa.String(32), sa.ForeignKey("fonts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("photo_name", sa.String(255), nullable=False),
        sa.Column("photo_key", sa.String(255), nullable=False),
        sa.Column("sheet_key", sa.String(255), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("font_id", "page", name="uq_pages_font_page"),
        **MYSQL,
    )
    op.create_table(
        "glyphs",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("font_id", sa.String(32), sa.ForeignKey("fonts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("codepoint", sa.Integer, nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("image", BLOB, nullable=True),
        sa.UniqueConstraint("font_id", "codepoint", name="uq_glyphs_font_codepoint"),
        **MYSQL,
    )
    op.create_index("ix_glyphs_font_page", "glyphs", ["font_id", "page"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("font_id", sa.String(32), sa.ForeignKey("fonts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("active_font_id", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("not_before", TIMESTAMP, nullable=False),
        sa.Column("enqueued_at", TIMESTAMP, nullable=True),
        sa.Column("stage_timings", sa.JSON, nullable=False),
        sa.Column("error", LONGTEXT, nullable=True),
        sa.Column("device", sa.String(64), nullable=True),
        sa.Column("result_prefix", sa.String(255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("active_font_id", name="uq_jobs_active_font"),
        **MYSQL,
    )
    op.create_index("ix_jobs_font_created", "jobs", ["font_id", "created_at"])
    op.create_index("ix_jobs_state", "jobs", ["state", "lease_expires_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("payload", BLOB, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        **MYSQL,
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("device", sa.String(64), nullable=True),
        sa.Column("current_job_id", sa.String(32), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; MySQL refuses to drop an index a foreign key still needs.
    for table in ("workers", "outbox", "jobs", "glyphs", "pages", "fonts"):
        op.drop_table(table)
