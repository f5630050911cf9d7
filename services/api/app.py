"""The FastAPI application: wiring, error answers, the web page, and the outbox relay thread.

uvicorn --factory services.api.app:create_app      # settings from GEULSSI_* variables
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from services.api import contract, errors, fonts, journey, operators, pages, template
from services.api.errors import RequestGuard
from services.api.security import SecurityHeaders
from services.api.uploads import BodySizeLimit, UploadError
from services.config import Settings, get_settings
from services.db.migrate import require_migrated
from services.db.session import Database, DatabaseUnavailable, is_outage
from services.queue.relay import OutboxRelay
from services.storage import ArtifactStore, StorageFull, StorageUnavailable, open_store

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).with_name("static")
OUTAGE = "the database is unavailable right now; please try again in a minute"
STORE_FULL = "the server has no room left to store files right now; nothing was saved, please try again later"
STORE_DOWN = "the file store is unavailable right now; nothing was lost, please try again in a minute"

DESCRIPTION = """
Turn handwriting into a Korean font. Print the template (`GET /api/template.pdf`), fill it in, then:

1. `POST /api/fonts` with a name: you get the font's **id** and a **token** (shown once).
2. `POST /api/fonts/{id}/pages` with photos of the filled pages; the answer says which cells to rewrite.
3. `POST /api/fonts/{id}/submit` when every Hangul cell is usable: a build job is queued.
4. Poll `GET /api/fonts/{id}` for the stage and progress; then download `font.ttf` / `font.woff2`.

Every call after the first needs `Authorization: Bearer <token>`. Errors are JSON: `{"detail": "..."}`, a
sentence saying what to do; every status a call can answer is listed under it. Every answer carries an
`X-Request-ID`; an unexpected error (500) also says it in its body: quote it when asking for help.
"""


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    store: ArtifactStore | None = None,
    relay: bool | None = None,
) -> FastAPI:
    """Build the app. `relay` (default: when Kafka is configured) runs the outbox relay in this process."""
    settings = settings or get_settings()
    db = db or Database(settings.database_url, settings.database_pool_size)
    store = store or open_store(settings)
    run_relay = bool(settings.kafka_servers) if relay is None else relay

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            require_migrated(db.engine)  # refuse to serve an old schema: DatabaseNotMigrated stops startup
        except DatabaseUnavailable as exc:
            log.warning("%s; starting anyway, requests will answer 503 until it is back", exc)
        outbox = OutboxRelay(db, settings).start() if run_relay else None
        try:
            yield
        finally:
            if outbox:
                outbox.stop()

    app = FastAPI(title="geulssi (글씨)", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings, app.state.db, app.state.store = settings, db, store
    app.add_middleware(BodySizeLimit, max_upload_bytes=lambda: settings.max_request_bytes)
    app.add_middleware(RequestGuard)  # request ids; any unexpected exception becomes a logged JSON 500
    app.add_middleware(SecurityHeaders)  # outermost: also on the size limit's early 413 and on the 500
    errors.install(app)  # house sentences for framework refusals and validation errors
    app.openapi = lambda: contract.documented_openapi(app)  # type: ignore[method-assign]
    app.include_router(fonts.router)
    app.include_router(pages.router)
    app.include_router(template.router)
    app.include_router(operators.router)
    app.include_router(journey.router)

    @app.exception_handler(UploadError)
    async def upload_error(_: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if not is_outage(exc):
            raise exc
        log.warning("database outage: %s", exc.orig)
        return JSONResponse({"detail": OUTAGE}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return JSONResponse({"detail": OUTAGE}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(StorageFull)
    async def storage_full(_: Request, exc: StorageFull) -> JSONResponse:
        log.error("%s", exc)  # an operator must free space: this is not the client's doing
        return JSONResponse({"detail": STORE_FULL}, status_code=507, headers={"Retry-After": "300"})

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(_: Request, exc: StorageUnavailable) -> JSONResponse:
        log.error("%s", exc)  # unreachable, no bucket or refused credentials: an operator must look
        return JSONResponse({"detail": STORE_DOWN}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        # Our own code raises ValueError only for bad input, with a sentence for a person.
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get(
        "/api/health",
        tags=["service"],
        summary="Liveness and database check",
        responses=contract.errors(503),
    )
    def health() -> dict[str, str]:
        try:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except DBAPIError:
            raise HTTPException(503, OUTAGE, headers={"Retry-After": "30"}) from None
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
