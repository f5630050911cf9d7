"""The FastAPI application: wiring, error answers, the web page, and the outbox relay thread.

uvicorn --factory services.api.app:create_app      # settings from GEULSSI_* variables
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from services.api import fonts, operators, pages, template
from services.api.security import SecurityHeaders
from services.api.uploads import BodySizeLimit, UploadError
from services.config import Settings, get_settings
from services.db.migrate import require_migrated
from services.db.session import Database, DatabaseUnavailable, is_outage
from services.queue.relay import OutboxRelay
from services.storage import ArtifactStore, LocalArtifactStore, StorageFull

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).with_name("static")
OUTAGE = "the database is unavailable right now; please try again in a minute"
STORE_FULL = "the server has no room left to store files right now; nothing was saved, please try again later"

DESCRIPTION = """
Turn handwriting into a Korean font. Print the template (`GET /api/template.pdf`), fill it in, then:

1. `POST /api/fonts` with a name: you get the font's **id** and a **token** (shown once).
2. `POST /api/fonts/{id}/pages` with photos of the filled pages; the answer says which cells to rewrite.
3. `POST /api/fonts/{id}/submit` when every Hangul cell is usable: a build job is queued.
4. Poll `GET /api/fonts/{id}` for the stage and progress; then download `font.ttf` / `font.woff2`.

Every call after the first needs `Authorization: Bearer <token>`. Errors are JSON: `{"detail": "..."}`.
"""


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        where = ".".join(str(p) for p in loc if p not in ("body", "query", "path"))
        where = where or ("the request body" if loc[:1] == ("body",) else "")
        msg = str(error.get("msg", "invalid"))
        if "Expected UploadFile" in msg:  # a text field where a file belongs; pydantic's words show a repr
            msg = "must be a file (multipart/form-data with a file name), not text"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or "the request is not valid"


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
    store = store or LocalArtifactStore(settings.storage_dir)
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
    app.add_middleware(SecurityHeaders)  # outermost: also on the size limit's early 413
    app.include_router(fonts.router)
    app.include_router(pages.router)
    app.include_router(template.router)
    app.include_router(operators.router)

    @app.exception_handler(UploadError)
    async def upload_error(_: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

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

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        # Our own code raises ValueError only for bad input, with a sentence for a person.
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/api/health", tags=["service"], summary="Liveness and database check")
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
