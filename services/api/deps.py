"""FastAPI dependencies: settings, database session, artifact store and the authenticated font."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.api.contract import implies
from services.config import Settings
from services.db import queries
from services.db.session import Database
from services.db.tables import Font
from services.storage import ArtifactStore

_bearer = HTTPBearer(auto_error=False, description="the token returned when the font was created")
NO_FONT = "no font with this id and token"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@implies({503: "the database is unavailable right now (Retry-After says when to try again)"})
def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


@implies({503: "the file store is unavailable right now (Retry-After says when to try again)"})
def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
SessionDep = Annotated[Session, Depends(get_session)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
FontIdPath = Annotated[str, Path(description="the font's public id", max_length=32)]
# Every number from a path, query or body is bounded before it reaches the database (a 64-bit column
# overflows at 2**63; the driver raised OverflowError for a page number of 2**70).
MAX_PAGE_NUMBER = 1000
PageNumber = Annotated[
    int, Path(ge=1, le=MAX_PAGE_NUMBER, description="the template page number, as printed on the page")
]
JobIdPath = Annotated[str, Path(description="the job's id", min_length=1, max_length=32)]
WorkerIdPath = Annotated[str, Path(description="the worker's id", min_length=1, max_length=128)]


@implies({401: "no token, or not sent as Authorization: Bearer <token>", 404: NO_FONT})
def get_font(
    font_id: FontIdPath,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Font:
    """The font named in the path, when the bearer token is its token.

    No token: 401. A wrong token and an unknown id both answer 404, so a stranger learns nothing.
    """
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            401,
            "this call needs the font's token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    font = queries.authenticate(session, font_id, credentials.credentials)
    if font is None:
        raise HTTPException(404, NO_FONT)
    # Detach and end the read, so a long request (photo extraction) holds no connection or snapshot.
    session.expunge(font)
    session.rollback()
    return font


FontDep = Annotated[Font, Depends(get_font)]
