"""FastAPI dependencies: settings, database session, artifact store and the authenticated font."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.config import Settings
from services.db import queries
from services.db.session import Database
from services.db.tables import Font
from services.storage import ArtifactStore

_bearer = HTTPBearer(auto_error=False, description="the token returned when the font was created")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
SessionDep = Annotated[Session, Depends(get_session)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
FontIdPath = Annotated[str, Path(description="the font's public id", max_length=32)]


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
        raise HTTPException(404, "no font with this id and token")
    # Detach and end the read, so a long request (photo extraction) holds no connection or snapshot.
    session.expunge(font)
    session.rollback()
    return font


FontDep = Annotated[Font, Depends(get_font)]
