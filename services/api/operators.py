"""Operator routes: the /ops page, the summary as JSON and Prometheus text, and the audited actions.

Every route but the page needs `Authorization: Bearer <GEULSSI_OPERATOR_TOKEN>` (users' font tokens do not
work here). No credential: 401; a wrong one: 403; no operator token configured: 503, since the endpoints are
then switched off. The page itself is a static shell holding no data: its script asks for the token and
calls the JSON routes with it.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field

from services.api import prometheus
from services.api.contract import errors, implies
from services.api.deps import DatabaseDep, JobIdPath, SessionDep, SettingsDep, WorkerIdPath
from services.api.fonts import job_status
from services.api.uploads import printable_text
from services.config import Settings
from services.db import operations, ops_summary
from services.db.session import Database, utcnow
from services.queue import kafka_stats

router = APIRouter(tags=["operators"])
PAGE = Path(__file__).with_name("static") / "ops.html"
_bearer = HTTPBearer(auto_error=False, description="the operator token (GEULSSI_OPERATOR_TOKEN)")
T = TypeVar("T")


@implies(
    {
        401: "no operator token, or not sent as Authorization: Bearer <operator token>",
        403: "the token is not the operator token",
        422: "X-Operator is not a name of at most 128 characters without control characters",
        503: "operator endpoints are switched off (GEULSSI_OPERATOR_TOKEN is not set)",
    }
)
def require_operator(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_operator: Annotated[str | None, Header(description="your name, recorded in the audit log")] = None,
) -> str:
    """Check the operator credential; return the actor for the audit log (X-Operator, else 'operator')."""
    if not settings.operator_token:
        raise HTTPException(
            503, "operator endpoints are switched off: set GEULSSI_OPERATOR_TOKEN to enable them"
        )
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            401,
            "this call needs the operator token: Authorization: Bearer <operator token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), settings.operator_token.encode()):
        raise HTTPException(403, "this token is not the operator token")
    return clean_actor(x_operator)


def clean_actor(name: str | None) -> str:
    """The operator's name as recorded: trimmed, 1..128 characters, no control characters."""
    name = unicodedata.normalize("NFC", name or "").strip() or "operator"
    if len(name) > 128 or any(unicodedata.category(ch).startswith("C") for ch in name):
        raise HTTPException(
            422, "X-Operator must be a name of at most 128 characters without control characters"
        )
    return name


OperatorDep = Annotated[str, Depends(require_operator)]


def _printable(text: str) -> str:
    """The reason as operators will read it: control and bidi characters out; nothing left is refused."""
    kept = printable_text(text)
    if not kept:
        raise ValueError("the reason has no readable characters")
    return kept


class PauseBody(BaseModel):
    reason: Annotated[str, AfterValidator(_printable)] = Field(
        min_length=1, max_length=500, description="why intake is paused (shown to operators)"
    )


def gather(db: Database, settings: Settings) -> tuple[ops_summary.Summary, kafka_stats.KafkaStats]:
    """The database summary and the Kafka figures (which may be 'unavailable: ...')."""
    with db.session() as session:
        summary = ops_summary.collect(
            session,
            now=utcnow(),
            lease_seconds=settings.lease_seconds,
            dead_letter_topic=settings.dead_letter_topic,
        )
    return summary, kafka_stats.collect(settings)


def to_json(value: Any) -> Any:
    """Dataclasses to plain JSON values; naive datetimes are UTC and say so; infinities become '+Inf'."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, float) and math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def summary_json(summary: ops_summary.Summary, kafka: kafka_stats.KafkaStats) -> dict[str, Any]:
    body: dict[str, Any] = to_json(summary)
    body["finished_per_hour_24h"] = round(summary.finished_last_24h / 24, 2)
    body["kafka"] = {**to_json(kafka), "total_lag": kafka.total_lag}
    return body


def _refusals(action: Callable[[], T]) -> T:
    """Run an action; its refusals become 404/409 answers with the sentence they carry."""
    try:
        return action()
    except operations.OperationRefused as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.get("/ops", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})


@router.get("/api/ops/summary", summary="Everything on the operator page, as JSON")
def summary(_: OperatorDep, db: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    """Jobs by state, queue age, throughput, stage times, workers, Kafka lag, outbox, failures, intake."""
    return summary_json(*gather(db, settings))


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(_: OperatorDep, db: DatabaseDep, settings: SettingsDep) -> PlainTextResponse:
    """The operator figures in Prometheus text format 0.0.4 (scrape with the operator token)."""
    return PlainTextResponse(prometheus.render(*gather(db, settings)), media_type=prometheus.CONTENT_TYPE)


@router.post("/api/ops/jobs/{job_id}/retry", summary="Retry a failed job", responses=errors(404, 409))
def retry(
    job_id: JobIdPath, actor: OperatorDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    job = _refusals(lambda: operations.retry_job(session, job_id, actor, settings.jobs_topic, utcnow()))
    return {"job": job_status(job).model_dump(mode="json")}


@router.post(
    "/api/ops/jobs/{job_id}/cancel", summary="Cancel a queued or running job", responses=errors(404, 409)
)
def cancel(job_id: JobIdPath, actor: OperatorDep, session: SessionDep) -> dict[str, Any]:
    job = _refusals(lambda: operations.cancel_job(session, job_id, actor, utcnow()))
    return {"job": job_status(job).model_dump(mode="json")}


@router.post("/api/ops/intake/pause", summary="Pause intake: new submissions answer 503")
def pause(body: PauseBody, actor: OperatorDep, session: SessionDep) -> dict[str, Any]:
    state = operations.set_intake_paused(session, True, actor, utcnow(), body.reason.strip())
    return {"intake": to_json(state)}


@router.post("/api/ops/intake/resume", summary="Resume intake")
def resume(actor: OperatorDep, session: SessionDep) -> dict[str, Any]:
    return {"intake": to_json(operations.set_intake_paused(session, False, actor, utcnow()))}


@router.post(
    "/api/ops/workers/{worker_id}/requeue",
    summary="Requeue the running jobs of a lost worker",
    responses=errors(404, 409),
)
def requeue(
    worker_id: WorkerIdPath, actor: OperatorDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    ids = _refusals(
        lambda: operations.requeue_worker_jobs(
            session,
            worker_id,
            actor,
            lease_seconds=settings.lease_seconds,
            jobs_topic=settings.jobs_topic,
            now=utcnow(),
        )
    )
    return {"worker": worker_id, "requeued": ids}


@router.get("/api/ops/actions", summary="The audit log of operator actions, newest first")
def actions(
    _: OperatorDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    rows = operations.recent_actions(session, limit)
    return {
        "actions": [
            to_json(
                {
                    "id": a.id,
                    "at": a.at,
                    "actor": a.actor,
                    "action": a.action,
                    "job_id": a.job_id,
                    "worker_id": a.worker_id,
                    "detail": a.detail,
                }
            )
            for a in rows
        ]
    }
