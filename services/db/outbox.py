"""The outbox (messages written in the same transaction as the change they announce) and worker heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.db.tables import OutboxMessage, Worker
from services.queue.messages import Message, encode


def outbox_row(topic: str, message: Message, now: datetime) -> OutboxMessage:
    """A row to add to the session whose transaction the message belongs to."""
    key = message.key.decode() if message.key else None
    return OutboxMessage(topic=topic, key=key, payload=encode(message), created_at=now)


def add_message(session: Session, topic: str, message: Message, now: datetime) -> None:
    """Queue a message for the relay (commits)."""
    session.add(outbox_row(topic, message, now))
    session.commit()


def claim_outbox(session: Session, limit: int = 100) -> Sequence[OutboxMessage]:
    """Lock and return the oldest unsent messages; the caller publishes them, then calls mark_published.

    The rows stay locked until then (SKIP LOCKED), so two relays never send the same row at once.
    """
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def mark_published(session: Session, ids: Sequence[int], now: datetime) -> None:
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(published_at=now)
            .execution_options(synchronize_session=False)
        )
    session.commit()


def prune_outbox(session: Session, before: datetime) -> None:
    """Forget messages published before `before`."""
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < before
        )
    )
    session.commit()


def worker_heartbeat(
    session: Session,
    worker_id: str,
    *,
    hostname: str,
    pid: int,
    device: str | None,
    job_id: str | None,
    now: datetime,
) -> None:
    """Record that a worker is alive and what it is doing (read by the operator summary)."""
    worker = session.get(Worker, worker_id)
    if worker is None:
        session.add(
            Worker(
                id=worker_id,
                hostname=hostname,
                pid=pid,
                device=device,
                current_job_id=job_id,
                started_at=now,
                last_seen_at=now,
            )
        )
    else:
        worker.device, worker.current_job_id, worker.last_seen_at = device, job_id, now
    session.commit()
