"""Routes for fonts: create, status, submit for building, download the result, delete everything."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from services.api.deps import NO_FONT, FontDep, SessionDep, SettingsDep, StoreDep
from services.api.pages import url
from services.api.schemas import (
    Cell,
    Downloads,
    ErrorMessage,
    FontCreate,
    FontCreated,
    FontStatus,
    GlyphCounts,
    JobStatus,
    MissingCells,
    PageSummary,
    SubmitResult,
)
from services.api.template import template_index
from services.api.uploads import reason_for
from services.db import jobs, operations, queries
from services.db.session import utcnow
from services.db.tables import SUCCEEDED, Job
from services.storage import ArtifactNotFound, font_prefix, result_key

router = APIRouter(tags=["fonts"])
# While intake is paused, how long a client is told to wait before submitting again.
PAUSED_RETRY_AFTER_SECONDS = 300
AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorMessage, "description": "no token"},
    404: {"model": ErrorMessage, "description": "unknown font, or wrong token"},
}


def job_status(job: Job) -> JobStatus:
    return JobStatus(
        id=job.id,
        state=job.state,
        stage=job.stage,
        progress=round(job.progress * 100, 1),
        attempts=job.attempts,
        stage_timings=job.stage_timings or {},
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@router.post(
    "/api/fonts",
    status_code=status.HTTP_201_CREATED,
    response_model=FontCreated,
    summary="Create a font",
    responses={422: {"model": ErrorMessage}},
)
def create_font(body: FontCreate, session: SessionDep, response: Response) -> FontCreated:
    """Create a font project. The token in the answer is shown only this once: keep it."""
    response.headers["Cache-Control"] = "no-store"  # the answer carries a secret: no cache may keep it
    font, token = queries.create_font(session, body.name)
    return FontCreated(id=font.id, token=token)


@router.get("/api/fonts/{font_id}", response_model=FontStatus, summary="Font status", responses=AUTH_ERRORS)
def get_status(font: FontDep, session: SessionDep, settings: SettingsDep) -> FontStatus:
    """Pages uploaded, usable glyphs, and the newest build job with its stage and progress."""
    index = template_index()
    statuses = queries.glyph_statuses(session, font.id)
    per_page: dict[int, list[str]] = {}
    for status_, page in statuses.values():
        per_page.setdefault(page, []).append(status_)
    pages = [
        PageSummary(
            page=p.page,
            photo=p.photo_name,
            uploaded_at=p.uploaded_at,
            cells_total=len(per_page.get(p.page, [])),
            cells_ok=sum(s == "ok" for s in per_page.get(p.page, [])),
            sheet_url=url(settings, f"/api/fonts/{font.id}/pages/{p.page}/sheet.png"),
        )
        for p in queries.list_pages(session, font.id)
    ]

    def ok_count(script: str) -> int:
        return sum(statuses.get(c.codepoint, ("", 0))[0] == "ok" for c in index.script(script))

    hangul_ok = ok_count("hangul")
    job = jobs.latest_job(session, font.id)
    built = (
        job if job is not None and job.state == SUCCEEDED else jobs.latest_job(session, font.id, SUCCEEDED)
    )
    downloads = None
    if built is not None:
        base = f"/api/fonts/{font.id}"
        downloads = Downloads(
            ttf=url(settings, f"{base}/font.ttf"),
            woff2=url(settings, f"{base}/font.woff2"),
            preview=url(settings, f"{base}/preview.png"),
        )
    return FontStatus(
        id=font.id,
        name=font.name,
        created_at=font.created_at,
        template_pages=index.pages,
        pages=pages,
        glyphs=GlyphCounts(
            hangul_ok=hangul_ok,
            hangul_required=len(index.script("hangul")),
            latin_ok=ok_count("latin"),
            latin_total=len(index.script("latin")),
        ),
        ready_to_submit=hangul_ok == len(index.script("hangul")),
        job=job_status(job) if job else None,
        downloads=downloads,
    )


def missing_cells(session: SessionDep, font_id: str) -> list[Cell]:
    """Every Hangul template cell that is not usable yet, in template order."""
    statuses = queries.glyph_statuses(session, font_id)
    missing = []
    for cell in template_index().script("hangul"):
        status_ = statuses.get(cell.codepoint, ("not uploaded", cell.page))[0]
        if status_ != "ok":
            reason = "its page has not been uploaded" if status_ == "not uploaded" else reason_for(status_)
            missing.append(
                Cell(char=cell.char, codepoint=cell.codepoint, page=cell.page, status=status_, reason=reason)
            )
    return missing


def refusal(missing: list[Cell], required: int) -> str:
    """Why a submit is refused, by what the writer has to do: pages never uploaded are to be uploaded,
    cells read but not usable (empty, faint, ...) are to be written again."""

    def pages(cells: list[Cell]) -> str:
        numbers = sorted({c.page for c in cells})
        return f"page{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"

    absent = [c for c in missing if c.status == "not uploaded"]
    rejected = [c for c in missing if c.status != "not uploaded"]
    todo = []
    if absent:
        todo.append(f"upload {pages(absent)} (not uploaded yet)")
    if rejected:
        cells = f"{len(rejected)} unusable cell{'s' if len(rejected) > 1 else ''}"
        again = "that page" if len({c.page for c in rejected}) == 1 else "those pages"
        todo.append(f"write the {cells} of {pages(rejected)} again and upload {again} again")
    return f"{len(missing)} of the {required} Hangul cells are not usable yet: {'; '.join(todo)}"


@router.post(
    "/api/fonts/{font_id}/submit",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitResult,
    summary="Build the font",
    responses={
        **AUTH_ERRORS,
        409: {"model": MissingCells, "description": "some Hangul cells are not usable yet"},
        503: {"model": ErrorMessage, "description": "operators paused new builds; try again later"},
    },
)
def submit(font: FontDep, session: SessionDep, settings: SettingsDep) -> SubmitResult | JSONResponse:
    """Queue a build once every Hangul cell is usable. Submitting again returns the job already queued."""
    intake = operations.intake_state(session)
    if intake.paused:
        return JSONResponse(
            {
                "detail": "new font builds are paused for maintenance; your pages are kept, please submit "
                f"again in a few minutes (reason: {intake.reason or 'not given'})"
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(PAUSED_RETRY_AFTER_SECONDS)},
        )
    # Decide under the font's lock: an upload or a delete of the font running alongside waits for us.
    queries.lock_font(session, font.id)
    missing = missing_cells(session, font.id)
    if missing and queries.get_font(session, font.id) is None:  # SQLite has no row lock: deleted meanwhile
        raise HTTPException(404, NO_FONT)
    if missing:
        body = MissingCells(detail=refusal(missing, len(template_index().script("hangul"))), missing=missing)
        return JSONResponse(body.model_dump(), status_code=status.HTTP_409_CONFLICT)
    job, created = jobs.submit_job(session, font.id, settings.jobs_topic, utcnow())
    return SubmitResult(job=job_status(job), created=created)


def _download(kind: str, media_type: str, filename: str) -> Callable[..., Response]:
    def download(font: FontDep, session: SessionDep, store: StoreDep) -> Response:
        job = jobs.latest_job(session, font.id, SUCCEEDED)
        if job is None or not job.result_prefix:
            raise HTTPException(404, "the font has not been built yet")
        try:
            artifact = store.stream(result_key(job.result_prefix, kind))
        except ArtifactNotFound:
            raise HTTPException(404, "the font files are missing; submit the font again") from None
        disposition = "inline" if kind == "preview" else "attachment"
        return StreamingResponse(  # chunk by chunk from the store: a large font never sits in memory whole
            artifact.chunks,
            media_type=media_type,
            headers={
                "Content-Disposition": f'{disposition}; filename="{filename}"',
                "Content-Length": str(artifact.size),
                "Cache-Control": "private, no-cache",
            },
        )

    return download


for _kind, _media, _path in (
    ("ttf", "font/ttf", "font.ttf"),
    ("woff2", "font/woff2", "font.woff2"),
    ("preview", "image/png", "preview.png"),
):
    router.add_api_route(
        f"/api/fonts/{{font_id}}/{_path}",
        _download(_kind, _media, f"geulssi-{_path}"),
        methods=["GET"],
        response_class=Response,
        summary=f"Download {_path}",
        responses={200: {"content": {_media: {}}}, **AUTH_ERRORS},
    )


@router.delete(
    "/api/fonts/{font_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete the font",
    responses=AUTH_ERRORS,
)
def delete_font(font: FontDep, session: SessionDep, store: StoreDep) -> Response:
    """Delete the font with its photos, glyphs, jobs and built files. A running build is abandoned."""
    if not queries.delete_font(session, font.id):  # another delete of the same font just won
        raise HTTPException(404, NO_FONT)
    store.delete_prefix(font_prefix(font.id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
