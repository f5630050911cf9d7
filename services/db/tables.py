"""The database tables (SQLAlchemy 2); migrations/ creates them, queries.py and jobs.py use them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# MySQL DATETIME keeps whole seconds unless told otherwise; leases and timings want microseconds.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# A glyph PNG or an extraction report can pass 64 KB, the limit of a plain MySQL BLOB/TEXT.
Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}

# Job states. A job is "active" while queued or running; at most one active job per font.
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
ACTIVE_STATES = (QUEUED, RUNNING)  # what the jobs.active_font_id unique index guards
JOB_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
BUILD, REPACKAGE = "build", "repackage"  # job kinds


class Base(DeclarativeBase):
    pass


class Font(Base):
    """A person's project: the pages they upload and the font built from them."""

    __tablename__ = "fonts"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, URL-safe, public
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the bearer token
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Page(Base):
    """One uploaded template page: its photo, contact sheet and extraction report."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("font_id", "page", name="uq_pages_font_page"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    font_id: Mapped[str] = mapped_column(String(32), ForeignKey("fonts.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column(Integer)
    photo_name: Mapped[str] = mapped_column(String(255))  # the file name the person uploaded
    photo_key: Mapped[str] = mapped_column(String(255))  # artifact store key
    sheet_key: Mapped[str] = mapped_column(String(255))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp)


class Glyph(Base):
    """One template cell as extracted from a page: status and the writing-box image (PNG)."""

    __tablename__ = "glyphs"
    __table_args__ = (
        UniqueConstraint("font_id", "codepoint", name="uq_glyphs_font_codepoint"),
        Index("ix_glyphs_font_page", "font_id", "page"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    font_id: Mapped[str] = mapped_column(String(32), ForeignKey("fonts.id", ondelete="CASCADE"))
    codepoint: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))  # "ok" or why the cell is not usable
    image: Mapped[bytes | None] = mapped_column(Blob, nullable=True)


class Job(Base):
    """One font build. State machine in services/db/jobs.py; the queue only carries its id."""

    __tablename__ = "jobs"
    __table_args__ = (
        # NULL unless the job is active: a unique index then allows one active job per font.
        UniqueConstraint("active_font_id", name="uq_jobs_active_font"),
        Index("ix_jobs_font_created", "font_id", "created_at"),
        Index("ix_jobs_state", "state", "lease_expires_at"),
        # The operator summary: jobs finished in a window, newest failures first (migration 0002).
        Index("ix_jobs_state_finished", "state", "finished_at"),
        MYSQL_TABLE,
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    font_id: Mapped[str] = mapped_column(String(32), ForeignKey("fonts.id", ondelete="CASCADE"))
    active_font_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1 over the whole build
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    not_before: Mapped[datetime] = mapped_column(Timestamp)  # retries wait until then
    enqueued_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)  # last message written
    stage_timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # stage -> seconds
    error: Mapped[str | None] = mapped_column(LongText, nullable=True)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result_prefix: Mapped[str | None] = mapped_column(String(255), nullable=True)  # artifact keys of the font
    # "build" (fine-tune and everything after) or "repackage" (redraw marked syllables of a finished build
    # and package again, no fine-tune; params: {"base_job": ..., "codepoints": [...], "method": ...}).
    kind: Mapped[str] = mapped_column(String(16), default="build", server_default="build")
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class OutboxMessage(Base):
    """A message to publish, written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(255))
    key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payload: Mapped[bytes] = mapped_column(Blob)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    published_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class Worker(Base):
    """A worker's last heartbeat: the operator page shows it, and a worker silent past its lease as lost."""

    __tablename__ = "workers"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    current_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)


class OperatorAction(Base):
    """The audit log: every operator action (retry, cancel, pause, resume, requeue), who and when."""

    __tablename__ = "operator_actions"
    __table_args__ = (Index("ix_operator_actions_at", "at"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    actor: Mapped[str] = mapped_column(String(128))  # the name the operator gave (X-Operator, --as)
    action: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


# The one switch so far: while set, POST /api/fonts/{id}/submit answers 503.
INTAKE_PAUSED = "intake_paused"


class ServiceFlag(Base):
    """A service-wide switch set by an operator (intake paused), with who set it, when and why."""

    __tablename__ = "service_flags"
    __table_args__ = (MYSQL_TABLE,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(Timestamp)
