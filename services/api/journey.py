"""Routes for the web journey: each page's latest state, the wait, the continue-elsewhere QR code, what
the font will lack, and fixing marked syllables by re-packaging (a job of kind "repackage", no fine-tune).

The state comes from the database on every call, so a reload (or another device) shows what the last
upload of each template page said, and a page never uploaded says so.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from services.api.deps import FontDep, SessionDep, SettingsDep, StoreDep
from services.api.fonts import job_status
from services.api.pages import url
from services.api.schemas import Cell, Codepoint, ErrorMessage, JobStatus
from services.api.template import template_index
from services.api.uploads import reason_for
from services.db import jobs, queries, waiting
from services.db.session import utcnow
from services.db.tables import ACTIVE_STATES, REPACKAGE, SUCCEEDED
from services.pipeline.kept import can_repackage

router = APIRouter(tags=["journey"])
_bearer = HTTPBearer(auto_error=False)
MAX_MARKED = 200  # syllables one fix may redraw (services/pipeline/redraw.MAX_MARKED)
FIRST_SYLLABLE, LAST_SYLLABLE = 0xAC00, 0xD7A3
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "no token"},
    404: {"model": ErrorMessage, "description": "unknown font, or wrong token"},
}


class PageState(BaseModel):
    page: int
    script: str = Field(description='"hangul" or "latin"')
    uploaded: bool = Field(description="false: this page has not been uploaded yet")
    photo: str | None = None
    uploaded_at: datetime | None = None
    cells_total: int = Field(description="cells on this template page")
    cells_ok: int
    to_rewrite: list[Cell] = Field(description="cells of the latest upload to write again (empty if none)")
    sheet_url: str | None = None
    writing_line: str | None = Field(
        None,
        description='the page\'s writing line in its latest upload: "written", "empty" or "out of frame" '
        "(null for pages without one, or not uploaded); the font takes the writer's spacing from it",
    )


class WaitState(BaseModel):
    state: str
    ahead: int = Field(description="jobs queued before this one")
    workers: int = Field(description="workers alive now")
    seconds_left: float = Field(description="estimated seconds until the font is ready")
    measured: bool = Field(description="the estimate uses stage times of jobs finished in the last 24 h")


class Journey(BaseModel):
    pages: list[PageState]
    written: list[int] = Field(description="Hangul syllables written in the writer's own hand (code points)")
    wait: WaitState | None = Field(None, description="while a job is queued or running")
    can_fix: bool = Field(description="the newest font kept what a re-package needs")
    fixes: int = Field(description="re-packages made so far")
    job_kind: str | None = Field(None, description='the newest job\'s kind: "build" or "repackage"')


class FixRequest(BaseModel):
    codepoints: list[Codepoint] = Field(
        min_length=1, max_length=MAX_MARKED, description="syllables to redraw"
    )


class FixResult(BaseModel):
    job: JobStatus
    created: bool


class MissingChar(BaseModel):
    char: str
    codepoint: int
    reason: str
    fallback: str | None = None


class Coverage(BaseModel):
    available: bool = Field(description="false while the coverage check is not installed")
    missing: list[MissingChar]


@router.get("/api/fonts/{font_id}/journey", response_model=Journey, summary="Journey state", responses=ERRORS)
def journey(font: FontDep, session: SessionDep, settings: SettingsDep, store: StoreDep) -> Journey:
    """Per template page its latest state, the writer's own syllables, the wait and whether fixes work."""
    index = template_index()
    statuses = queries.glyph_statuses(session, font.id)
    uploads = {p.page: p for p in queries.list_pages(session, font.id)}
    pages = []
    for number in range(1, index.pages + 1):
        cells = sorted((c for c in index.cells.values() if c.page == number), key=lambda c: c.codepoint)
        row = uploads.get(number)
        read = [(c, statuses.get(c.codepoint, ("missing", number))[0]) for c in cells] if row else []
        pages.append(
            PageState(
                page=number,
                script=cells[0].script if cells else "hangul",
                uploaded=row is not None,
                photo=row.photo_name if row else None,
                uploaded_at=row.uploaded_at if row else None,
                cells_total=len(cells),
                cells_ok=sum(s == "ok" for _, s in read),
                to_rewrite=[
                    Cell(char=c.char, codepoint=c.codepoint, page=number, status=s, reason=reason_for(s))
                    for c, s in read
                    if s != "ok"
                ],
                sheet_url=url(settings, f"/api/fonts/{font.id}/pages/{number}/sheet.png") if row else None,
                writing_line=(row.report or {}).get("writing_line") if row else None,
            )
        )
    written = sorted(
        cp for cp, (s, _) in statuses.items() if s == "ok" and FIRST_SYLLABLE <= cp <= LAST_SYLLABLE
    )
    job = jobs.latest_job(session, font.id)
    wait = None
    if job is not None and job.state in ACTIVE_STATES:
        w = waiting.estimate(session, job, utcnow(), settings.lease_seconds)
        wait = WaitState(
            state=w.state, ahead=w.ahead, workers=w.workers, seconds_left=w.seconds_left, measured=w.measured
        )
    built = jobs.latest_job(session, font.id, SUCCEEDED)
    return Journey(
        pages=pages,
        written=written,
        wait=wait,
        can_fix=built is not None and can_repackage(store, built.result_prefix),
        fixes=jobs.count_jobs(session, font.id, REPACKAGE),
        job_kind=job.kind if job is not None else None,
    )


def continue_link(request: Request, settings: SettingsDep, font_id: str, token: str) -> str:
    base = settings.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/#font={font_id}&token={token}"


@router.get(
    "/api/fonts/{font_id}/link.svg",
    response_class=Response,
    summary="QR code of the address that continues this project on another device",
    responses={200: {"content": {"image/svg+xml": {}}}, **ERRORS},
)
def link_qr(
    font: FontDep,
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """The address holds the token, so the picture is made here from the caller's own token, never kept."""
    import segno

    assert credentials is not None  # FontDep has checked it
    buffer = io.BytesIO()
    qr = segno.make(continue_link(request, settings, font.id, credentials.credentials), error="m")
    qr.save(buffer, kind="svg", scale=5, border=2, xmldecl=False, title="geulssi")
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(
    "/api/fonts/{font_id}/coverage",
    response_model=Coverage,
    summary="What the font will lack",
    responses=ERRORS,
)
def coverage(font: FontDep, session: SessionDep) -> Coverage:
    """Characters the font will not have (or will borrow), and why, from the glyphs usable now."""
    try:
        from services.packaging.coverage import coverage_report  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return Coverage(available=False, missing=[])
    ok = [cp for cp, (s, _) in queries.glyph_statuses(session, font.id).items() if s == "ok"]
    return Coverage(
        available=True,
        missing=[
            MissingChar(
                char=m.char, codepoint=m.codepoint, reason=m.reason, fallback=getattr(m, "fallback", None)
            )
            for m in coverage_report(sorted(ok))
        ],
    )


@router.post(
    "/api/fonts/{font_id}/fix",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FixResult,
    summary="Redraw marked syllables and package the font again (no new fine-tune)",
    responses={
        **ERRORS,
        409: {"model": ErrorMessage, "description": "no finished font to fix, or a job is running"},
        422: {"model": ErrorMessage, "description": "a marked character cannot be redrawn"},
    },
)
def fix(
    body: FixRequest, font: FontDep, session: SessionDep, settings: SettingsDep, store: StoreDep
) -> FixResult:
    """Queue a re-package: the marked generated syllables are redrawn in another style, the rest is kept."""
    wrong = [cp for cp in body.codepoints if not FIRST_SYLLABLE <= cp <= LAST_SYLLABLE]
    if wrong:
        raise HTTPException(422, f"only Hangul syllables can be redrawn; {_char(wrong[0])} is not one")
    statuses = queries.glyph_statuses(session, font.id)
    own = [cp for cp in body.codepoints if statuses.get(cp, ("", 0))[0] == "ok"]
    if own:
        page = template_index().cells[own[0]].page
        raise HTTPException(
            422,
            f"{chr(own[0])} is written in your own hand: to change it, write it again on page {page} "
            "and upload that page",
        )
    active = jobs.active_job(session, font.id)
    if active is not None:
        raise HTTPException(409, "a build is still running: wait until it is done, then mark syllables again")
    built = jobs.latest_job(session, font.id, SUCCEEDED)
    if built is None:
        raise HTTPException(409, "the font has not been built yet: build it first, then fix syllables")
    if not can_repackage(store, built.result_prefix):
        raise HTTPException(
            409, "this font was built before fixes were possible (its drawings were not kept): build it again"
        )
    params = {
        "base_job": built.id,
        "codepoints": sorted(set(body.codepoints)),
        "attempt": jobs.count_jobs(session, font.id, REPACKAGE),
    }
    job, created = jobs.submit_job(
        session, font.id, settings.jobs_topic, utcnow(), kind=REPACKAGE, params=params
    )
    return FixResult(job=job_status(job), created=created)


def _char(cp: int) -> str:
    return f"U+{cp:04X}" if cp < 0 or cp > 0x10FFFF else f"{chr(cp)!r} (U+{cp:04X})"
