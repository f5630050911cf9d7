"""The service commands: `geulssi serve` (all in one), `migrate`, `api` and `worker` (production pieces)."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import sys
import threading
from typing import Any

from services.config import Settings, get_settings

log = logging.getLogger("geulssi")


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the whole site locally: API, web page, one worker and a local broker",
        description="Starts the API and web page at http://HOST:PORT, one worker, and (unless "
        "GEULSSI_KAFKA_BOOTSTRAP_SERVERS is set) a local Kafka broker. With the default SQLite "
        "database under ./var the schema is migrated automatically. Ctrl-C stops everything.",
    )
    _host_port(serve)
    serve.add_argument("--no-worker", action="store_true", help="do not run a worker in this process")
    serve.set_defaults(func=cmd_serve)

    migrate = subparsers.add_parser(
        "migrate", help="bring the database schema up to date (GEULSSI_DATABASE_URL)"
    )
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.add_argument("--down", action="store_true", help="migrate down to --revision (default: base)")
    migrate.set_defaults(func=cmd_migrate)

    api = subparsers.add_parser("api", help="run the API and web page only (production; needs a migrated DB)")
    _host_port(api)
    api.set_defaults(func=cmd_api)

    worker = subparsers.add_parser("worker", help="run one build worker (production; needs Kafka)")
    worker.set_defaults(func=cmd_worker)


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=None, help="address to listen on (default: GEULSSI_HOST or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: GEULSSI_PORT or 8000)")


def _logging(quiet_kafka: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # kafka-python logs every reconnect attempt; with our own local broker those are only noise.
    logging.getLogger("kafka").setLevel(logging.CRITICAL if quiet_kafka else logging.ERROR)


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.db import migrate
    from services.db.session import Database, DatabaseUnavailable

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        if args.down:
            migrate.downgrade(db.engine, "base" if args.revision == "head" else args.revision)
        else:
            migrate.upgrade(db.engine, args.revision)
        print(f"{db.describe()}: at revision {migrate.current_revision(db.engine) or 'base (empty)'}")
    except DatabaseUnavailable as exc:
        return _fail(exc)
    finally:
        db.dispose()
    return 0


def _serve_uvicorn(app: Any, settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    uvicorn.Server(config).run()


def cmd_api(args: argparse.Namespace) -> int:
    from services.api.app import create_app
    from services.db.migrate import require_migrated
    from services.db.session import Database, DatabaseNotMigrated, DatabaseUnavailable
    from services.storage import open_store

    _logging()
    settings = get_settings()
    db = Database(settings.database_url, settings.database_pool_size)
    try:
        store = open_store(settings)
        require_migrated(db.engine)
    except (DatabaseNotMigrated, DatabaseUnavailable, ValueError) as exc:
        return _fail(exc)
    _serve_uvicorn(create_app(settings, db=db, store=store), settings, args.host, args.port)
    return 0


def _until_signalled(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def cmd_worker(args: argparse.Namespace) -> int:
    from services.db.migrate import require_migrated
    from services.db.session import Database, DatabaseNotMigrated, DatabaseUnavailable
    from services.storage import open_store
    from services.worker.service import WorkerService

    _logging()
    settings = get_settings()
    if not settings.kafka_servers:
        return _fail(ValueError("set GEULSSI_KAFKA_BOOTSTRAP_SERVERS to the Kafka broker (host:port)"))
    db = Database(settings.database_url, settings.database_pool_size)
    try:
        store = open_store(settings)
        require_migrated(db.engine)
    except (DatabaseNotMigrated, DatabaseUnavailable, ValueError) as exc:
        return _fail(exc)
    worker = WorkerService(settings, db, store).start()
    stop = threading.Event()

    def watch() -> None:  # the loop can also end on its own (a fatal error): then exit too
        worker.wait()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    _until_signalled(stop)
    log.info("stopping the worker")
    worker.stop()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from services.api.app import create_app
    from services.db import jobs, migrate
    from services.db.session import Database, DatabaseNotMigrated, DatabaseUnavailable
    from services.queue.broker import LocalBroker, free_port
    from services.storage import open_store
    from services.worker.service import WorkerService

    settings = get_settings()
    _logging(quiet_kafka=not settings.kafka_servers)
    db = Database(settings.database_url, settings.database_pool_size)
    try:
        store = open_store(settings)
        if db.is_sqlite:
            migrate.upgrade(db.engine)  # embedded mode: the newcomer's one command must just work
        else:
            migrate.require_migrated(db.engine)
    except (DatabaseNotMigrated, DatabaseUnavailable, ValueError) as exc:
        return _fail(exc)
    broker = None
    if not settings.kafka_servers:
        broker = LocalBroker(free_port())
        broker.start()
        settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
        with db.session() as session:  # a fresh in-memory broker holds none of the queued jobs' messages
            jobs.requeue_all_queued(session)
    if not settings.operator_token and db.is_sqlite:
        # Embedded mode: the operator page works out of the box, with a token made for this run only.
        settings = settings.model_copy(update={"operator_token": secrets.token_urlsafe(24)})
        print(
            f"operator page: http://{args.host or settings.host}:{args.port or settings.port}/ops "
            f"(token for this run: {settings.operator_token})",
            flush=True,
        )
    worker = None
    try:
        if not args.no_worker:
            worker = WorkerService(settings, db, store).start()
        app = create_app(settings, db=db, store=store, relay=worker is None)
        log.info("geulssi is at http://%s:%d", args.host or settings.host, args.port or settings.port)
        _serve_uvicorn(app, settings, args.host, args.port)  # returns on Ctrl-C
    finally:
        log.info("stopping")
        if worker:
            worker.stop()
        if broker:
            broker.stop()
        db.dispose()
    return 0
