"""Every query and change on fonts, pages and glyphs (jobs and the outbox: jobs.py); changes commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from services.db.session import utcnow
from services.db.tables import Font, Glyph, Job, OutboxMessage, Page

# Compared against when a font id is unknown, so a wrong id and a wrong token take the same time.
_NO_FONT_HASH = hashlib.sha256(b"no such font").hexdigest()


class FontNotFound(LookupError):
    """The font is gone: deleted by another request while this one was using it (the API answers 404)."""


def new_id(nbytes: int = 12) -> str:
    """A random URL-safe id (16 characters for 12 bytes) that never starts with "-".

    An id with a leading "-" reads as an option on a command line (`geulssi ops retry -x1...`),
    so those draws (1 in 64) are drawn again.
    """
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A font's name table holds at most 63 characters (services/packaging/font_tables.MAX_NAME_LENGTH).
MAX_FONT_NAME = 63


def clean_font_name(name: str) -> str:
    """Return the name trimmed; raise ValueError when it is empty, too long or holds control characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ValueError("the font needs a name")
    if len(name) > MAX_FONT_NAME:
        raise ValueError(f"the font name is {len(name)} characters long; at most {MAX_FONT_NAME} fit")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError("the font name may not contain control characters (tabs, line breaks and the like)")
    return name


def create_font(session: Session, name: str) -> tuple[Font, str]:
    """Create a font and return it with its bearer token (the token itself is never stored)."""
    token = secrets.token_urlsafe(32)
    font = Font(id=new_id(), name=clean_font_name(name), token_hash=hash_token(token), created_at=utcnow())
    session.add(font)
    session.commit()
    return font, token


def get_font(session: Session, font_id: str) -> Font | None:
    return session.get(Font, font_id)


def lock_font(session: Session, font_id: str) -> None:
    """Lock the font's row for this transaction, or raise FontNotFound when it was deleted meanwhile.

    Every change to a font's rows takes this lock first, so a delete running alongside waits its turn
    (or finds the work done) instead of meeting it at a foreign key or in a deadlock.
    """
    if session.execute(select(Font.id).where(Font.id == font_id).with_for_update()).first() is None:
        session.rollback()
        raise FontNotFound(font_id)


def authenticate(session: Session, font_id: str, token: str) -> Font | None:
    """The font when `token` is its token; None for a wrong token and an unknown id alike."""
    font = session.get(Font, font_id) if len(font_id) <= 32 else None
    expected = font.token_hash if font else _NO_FONT_HASH
    if hmac.compare_digest(expected, hash_token(token)) and font is not None:
        return font
    return None


@dataclass(frozen=True)
class GlyphCell:
    """One extracted cell ready to store: status and the writing-box image as PNG (None when absent)."""

    codepoint: int
    status: str
    png: bytes | None


@dataclass(frozen=True)
class PageWrite:
    """A page upload to store: its artifacts (already in the store), report and cells."""

    page: int
    photo_name: str
    photo_key: str
    sheet_key: str
    report: dict[str, Any]
    cells: Sequence[GlyphCell]


def replace_pages(session: Session, font_id: str, pages: Sequence[PageWrite]) -> list[str]:
    """Store pages and their glyphs in one transaction, replacing earlier uploads of the same pages.

    Returns the artifact keys of the replaced uploads, for the caller to delete once this has committed.
    """
    old_keys: list[str] = []
    # The font's row first, locked: two uploads of the same page at once (a double click) then take
    # turns and the second replaces the first, instead of both inserting and one failing on a unique key.
    lock_font(session, font_id)
    for write in pages:
        old = session.scalars(
            select(Page).where(Page.font_id == font_id, Page.page == write.page).with_for_update()
        ).first()
        codepoints = [c.codepoint for c in write.cells]
        # A codepoint belongs to one template page, but clear it wherever it is so the unique key holds.
        session.execute(
            delete(Glyph).where(
                Glyph.font_id == font_id, or_(Glyph.page == write.page, Glyph.codepoint.in_(codepoints))
            )
        )
        if old:
            old_keys += [old.photo_key, old.sheet_key]
            session.delete(old)
            session.flush()
        session.add(
            Page(
                font_id=font_id,
                page=write.page,
                photo_name=write.photo_name[:255],
                photo_key=write.photo_key,
                sheet_key=write.sheet_key,
                report=write.report,
                uploaded_at=utcnow(),
            )
        )
        session.add_all(
            Glyph(font_id=font_id, codepoint=c.codepoint, page=write.page, status=c.status, image=c.png)
            for c in write.cells
        )
    session.commit()
    return old_keys


def list_pages(session: Session, font_id: str) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.font_id == font_id).order_by(Page.page)))


def get_page(session: Session, font_id: str, page: int) -> Page | None:
    return session.scalars(select(Page).where(Page.font_id == font_id, Page.page == page)).first()


def glyph_statuses(session: Session, font_id: str) -> dict[int, tuple[str, int]]:
    """codepoint -> (status, page) for every cell extracted so far."""
    rows = session.execute(select(Glyph.codepoint, Glyph.status, Glyph.page).where(Glyph.font_id == font_id))
    return {cp: (status, page) for cp, status, page in rows}


def count_ok_glyphs(session: Session, font_id: str, codepoints: Iterable[int]) -> int:
    wanted = list(codepoints)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Glyph)
            .where(Glyph.font_id == font_id, Glyph.status == "ok", Glyph.codepoint.in_(wanted))
        )
        or 0
    )


def ok_glyph_images(session: Session, font_id: str) -> dict[int, bytes]:
    """codepoint -> PNG bytes of every usable glyph of the font."""
    rows = session.execute(
        select(Glyph.codepoint, Glyph.image).where(
            Glyph.font_id == font_id, Glyph.status == "ok", Glyph.image.is_not(None)
        )
    )
    return {cp: bytes(image) for cp, image in rows if image is not None}


def delete_font(session: Session, font_id: str) -> bool:
    """Delete the font and all its rows (pages, glyphs, jobs, unsent messages). False if it did not exist.

    The caller removes the artifacts (everything under the font's key prefix) after this commits.
    """
    font = session.get(Font, font_id, with_for_update=True)
    if font is None:
        return False
    job_keys = list(session.scalars(select(Job.id).where(Job.font_id == font_id)))
    if job_keys:
        # Messages about a deleted font are noise: drop the ones not sent yet.
        session.execute(
            delete(OutboxMessage).where(OutboxMessage.published_at.is_(None), OutboxMessage.key.in_(job_keys))
        )
    for table in (Glyph, Page, Job):
        session.execute(delete(table).where(table.font_id == font_id))
    gone = session.execute(
        delete(Font).where(Font.id == font_id).execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]  # SQLite takes no row lock: another delete won
        session.rollback()
        return False
    session.commit()
    return True
