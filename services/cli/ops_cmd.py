"""`geulssi ops`: the operator summary as a terminal table, and the operator actions (audited).

Reads the database (and Kafka, when configured) from GEULSSI_* settings, like the API does; the actions
call the same functions as the operator endpoints, recorded under `--as` or $USER@host.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
from collections.abc import Sequence
from typing import Any

from services.config import get_settings


def register(subparsers: Any) -> None:
    ops = subparsers.add_parser(
        "ops", help="operators: the queue, workers and failures; retry, cancel, pause"
    )
    commands = ops.add_subparsers(dest="ops_command", metavar="ACTION", required=True)

    status = commands.add_parser("status", help="print the operator summary as a table")
    status.add_argument("--json", action="store_true", help="print the same data as JSON instead")
    status.set_defaults(func=cmd_status)

    for name, help_text in (
        ("retry", "queue a failed job again"),
        ("cancel", "cancel a queued or running job"),
    ):
        action = commands.add_parser(name, help=help_text)
        action.add_argument("job", help="the job id")
        _actor(action)
        action.set_defaults(func=cmd_job_action, action=name)

    pause = commands.add_parser("pause", help="pause intake: new submissions answer 503 until resumed")
    pause.add_argument("--reason", required=True, help="why (shown on the operator page)")
    _actor(pause)
    pause.set_defaults(func=cmd_intake, paused=True)

    resume = commands.add_parser("resume", help="resume intake")
    _actor(resume)
    resume.set_defaults(func=cmd_intake, paused=False, reason=None)

    requeue = commands.add_parser("requeue", help="put the running jobs of a lost worker back in the queue")
    requeue.add_argument("worker", help="the worker id (see `geulssi ops status`)")
    _actor(requeue)
    requeue.set_defaults(func=cmd_requeue)


def _actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="actor", default=None, help="name for the audit log (default: $USER@host)"
    )


def actor_name(given: str | None) -> str:
    if given is not None:
        from services.api.operators import clean_actor

        try:
            return clean_actor(given)
        except Exception:
            raise ValueError(
                "--as must be a name of at most 128 characters without control characters"
            ) from None
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:128]


def _database() -> Any:
    """The database from settings, checked to be reachable and migrated (else a clear `error: ...`)."""
    from services.db.migrate import require_migrated
    from services.db.session import Database, DatabaseNotMigrated, DatabaseUnavailable

    db = Database(get_settings().database_url, 2)
    try:
        require_migrated(db.engine)
    except (DatabaseNotMigrated, DatabaseUnavailable) as exc:
        db.dispose()
        raise ValueError(f"{db.describe()}: {exc}") from None
    return db


def cmd_status(args: argparse.Namespace) -> int:
    from services.api.operators import gather, summary_json

    db = _database()
    try:
        body = summary_json(*gather(db, get_settings()))
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(render_table(body))
    return 0


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; '-' for None."""
    cells = [[str(h) for h in headers]] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_table(body: dict[str, Any]) -> str:
    """The summary (as summary_json gives it) as sections of plain-text tables."""
    intake = body["intake"]
    out = [
        f"geulssi operators - {body['generated_at']}",
        "intake: "
        + (f"PAUSED by {intake['changed_by']} ({intake['reason']})" if intake["paused"] else "open"),
        "",
        table(list(body["jobs"]), [list(body["jobs"].values())]),
        "",
        f"oldest queued job: {_age(body['oldest_queued_age_seconds'])}   finished last hour: "
        f"{body['finished_last_hour']}   last 24 h: {body['finished_last_24h']} "
        f"({body['finished_per_hour_24h']}/h)   failed last 24 h: {body['failed_last_24h']}",
        f"outbox backlog: {body['outbox_backlog']} (oldest {_age(body['outbox_oldest_age_seconds'])})   "
        f"dead letters (7 days): {body['dead_letters']}",
        "",
        "stage times (jobs finished in the last 24 h)",
        table(
            ["stage", "jobs", "median", "p95"],
            [
                [s["stage"], s["count"], _age(s["median_seconds"]), _age(s["p95_seconds"])]
                for s in body["stages"]
            ],
        ),
        "",
        "running jobs",
        table(
            ["job", "font", "kind", "stage", "progress", "elapsed", "in stage", "attempt", "worker"],
            [
                [
                    r["job_id"],
                    r["font_id"],
                    r["kind"],
                    r["stage"],
                    f"{r['progress']:.0%}",
                    _age(r["elapsed_seconds"]),
                    _age(r["stage_seconds"]),
                    r["attempts"],
                    r["worker"],
                ]
                for r in body["running"]
            ],
        ),
        "",
        "workers",
        table(
            ["worker", "host", "device", "job", "stage", "last heartbeat", "status"],
            [
                [
                    w["id"],
                    w["hostname"],
                    w["device"],
                    w["current_job_id"],
                    w["stage"],
                    _age(w["seconds_since_heartbeat"]) + " ago",
                    "LOST" if w["lost"] else "ok",
                ]
                for w in body["workers"]
            ],
        ),
        "",
    ]
    kafka = body["kafka"]
    if kafka["available"]:
        members = (
            "unknown (the broker cannot describe groups)"
            if kafka["members"] is None
            else len(kafka["members"])
        )
        out += [
            f"kafka: topic {kafka['topic']}, group {kafka['group']}, members {members}, "
            f"lag {kafka['total_lag']}",
            table(
                ["partition", "committed", "end", "lag"],
                [[p["partition"], p["committed"], p["end"], p["lag"]] for p in kafka["partitions"]],
            ),
        ]
    else:
        out.append(f"kafka: {kafka['reason']}")
    out += ["", "recent failures"]
    out.append(
        table(
            ["job", "stage", "attempts", "finished", "error"],
            [
                [
                    f["job_id"],
                    f["stage"],
                    f["attempts"],
                    f["finished_at"],
                    (f["error"] or "").splitlines()[0][:80],
                ]
                for f in body["failures"]
            ],
        )
    )
    return "\n".join(out)


def cmd_job_action(args: argparse.Namespace) -> int:
    from services.db import operations
    from services.db.session import utcnow

    actor, settings, db = actor_name(args.actor), get_settings(), _database()
    try:
        with db.session() as session:
            if args.action == "retry":
                job = operations.retry_job(session, args.job, actor, settings.jobs_topic, utcnow())
            else:
                job = operations.cancel_job(session, args.job, actor, utcnow())
    finally:
        db.dispose()
    print(f"job {job.id} is now {job.state} ({args.action} by {actor})")
    return 0


def cmd_intake(args: argparse.Namespace) -> int:
    from services.db import operations
    from services.db.session import utcnow

    actor, db = actor_name(args.actor), _database()
    reason = args.reason.strip() if args.reason else None
    if args.paused and not reason:
        raise ValueError("--reason must say why intake is paused")
    try:
        with db.session() as session:
            state = operations.set_intake_paused(session, args.paused, actor, utcnow(), reason)
    finally:
        db.dispose()
    print("intake is paused: new submissions answer 503" if state.paused else "intake is open")
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    from services.db import operations
    from services.db.session import utcnow

    actor, settings, db = actor_name(args.actor), get_settings(), _database()
    try:
        with db.session() as session:
            ids = operations.requeue_worker_jobs(
                session,
                args.worker,
                actor,
                lease_seconds=settings.lease_seconds,
                jobs_topic=settings.jobs_topic,
                now=utcnow(),
            )
    finally:
        db.dispose()
    print(f"requeued {len(ids)} job(s) of worker {args.worker}: {', '.join(ids) or 'none were running'}")
    return 0
