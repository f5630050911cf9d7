"""Routes for template pages: upload photos (extracted on the spot) and fetch a page's contact sheet."""

from __future__ import annotations

from typing import Annotated

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from services.api.contract import errors
from services.api.deps import NO_FONT, DatabaseDep, FontDep, PageNumber, SessionDep, SettingsDep, StoreDep
from services.api.schemas import Cell, ErrorMessage, PageReport, UploadResult
from services.api.uploads import ExtractedPage, UploadError, clean_file_name, extract_pages, size_text
from services.config import Settings
from services.db import queries
from services.db.queries import FontNotFound
from services.db.session import Database
from services.storage import ArtifactNotFound, ArtifactStore, font_prefix, photo_key, sheet_key

router = APIRouter(tags=["pages"])
# Extraction is CPU-bound (~0.5 s a photo) and holds a decoded photo (up to ~150 MB): two at a time. Uploads
# wait for a slot here, in the event loop rather than in a worker thread, so a queue of uploads never takes
# the thread pool that every other call (status polls, downloads) needs.
EXTRACTION_SLOTS = CapacityLimiter(2)


def url(settings: Settings, path: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}"


def store_pages(db: Database, store: ArtifactStore, font_id: str, pages: list[ExtractedPage]) -> None:
    """Write artifacts, then the rows in one transaction; on failure remove what was written.

    Old artifacts of replaced pages are removed only after the new rows are committed.
    """
    written: list[str] = []
    try:
        writes = []
        for p in pages:
            upload_id = queries.new_id(6)
            pk, sk = photo_key(font_id, p.page, upload_id, p.suffix), sheet_key(font_id, p.page, upload_id)
            store.put(pk, p.photo)
            written.append(pk)
            store.put(sk, p.sheet_png)
            written.append(sk)
            writes.append(queries.PageWrite(p.page, p.name, pk, sk, p.report, p.cells))
        with db.session() as session:
            old_keys = queries.replace_pages(session, font_id, writes)
    except BaseException as exc:
        for key in written:
            store.delete(key)
        if isinstance(exc, FontNotFound | IntegrityError) and _font_gone(db, font_id):
            # Deleted while its photos were read: leave nothing behind, not even the folders just made.
            store.delete_prefix(font_prefix(font_id))
            raise HTTPException(404, NO_FONT) from None
        raise
    for key in old_keys:
        store.delete(key)


def _font_gone(db: Database, font_id: str) -> bool:
    with db.session() as session:
        return queries.get_font(session, font_id) is None


@router.post(
    "/api/fonts/{font_id}/pages",
    response_model=UploadResult,
    summary="Upload photos of filled-in template pages",
    description="Each photo is read right away; the answer says, per page, which cells are usable and which "
    "to write again. Uploading a page again replaces it. Nothing is stored unless every photo "
    "in the request can be read.",
    responses={
        401: {"model": ErrorMessage},
        404: {"model": ErrorMessage},
        413: {"model": ErrorMessage, "description": "a photo or the whole upload is too large"},
        415: {"model": ErrorMessage,
              "description": "not a JPEG, PNG (8 or 16 bit) or HEIC photo, nor a PDF scan"},
        422: {"model": ErrorMessage, "description": "a photo shows no template page, or is unreadable"},
        **errors(507),
    },
)
async def upload_pages(
    font: FontDep,
    photos: Annotated[list[UploadFile], File(
        description="photos of template pages (JPEG, PNG of 8 or 16 bits or HEIC; one page, or two side by "
        "side) or PDF scans (every page read)")],
    settings: SettingsDep,
    db: DatabaseDep,
    store: StoreDep,
) -> UploadResult:
    if not photos:
        raise UploadError("choose at least one photo", 422)
    if len(photos) > settings.max_photos_per_upload:
        raise UploadError(f"at most {settings.max_photos_per_upload} photos per upload", 413)
    named = []
    for index, photo in enumerate(photos, start=1):
        name = clean_file_name(photo.filename, f"photo {index}")
        data = await photo.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise UploadError(f"{name} is larger than {size_text(settings.max_upload_bytes)}", 413)
        named.append((name, data))
    pages = await to_thread.run_sync(
        extract_pages, named, settings.max_upload_pixels, limiter=EXTRACTION_SLOTS
    )
    await run_in_threadpool(store_pages, db, store, font.id, pages)
    return UploadResult(
        pages=[
            PageReport(
                page=p.page,
                photo=p.name,
                cells_total=len(p.cells),
                cells_ok=sum(c.status == "ok" for c in p.cells),
                to_rewrite=[Cell(**cell) for cell in p.to_rewrite],
                sheet_url=url(settings, f"/api/fonts/{font.id}/pages/{p.page}/sheet.png"),
                report=p.report,
            )
            for p in pages
        ]
    )


@router.get(
    "/api/fonts/{font_id}/pages/{page}/sheet.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "every cell of the page as it was read"},
        404: {"model": ErrorMessage},
    },
    summary="The contact sheet of an uploaded page",
)
def page_sheet(font: FontDep, page: PageNumber, session: SessionDep, store: StoreDep) -> Response:
    row = queries.get_page(session, font.id, page)
    if row is None:
        raise HTTPException(404, f"page {page} has not been uploaded")
    try:
        data = store.get(row.sheet_key)
    except ArtifactNotFound:
        raise HTTPException(404, f"the contact sheet of page {page} is missing") from None
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-cache"})
