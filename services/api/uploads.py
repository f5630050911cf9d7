"""Photo uploads: the body-size limit, type and pixel checks, and extraction into storable pages."""

from __future__ import annotations

import io
import json
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import HTTPException
from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.db.queries import GlyphCell


def size_text(n: int) -> str:
    """A byte count for people: "25 MB", "1.4 MB", "200 kB"."""
    if n >= 10 * 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB"
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.0f} kB"


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


class UploadError(ValueError):
    """An upload we refuse; carries the HTTP status to answer with."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


# Bidirectional overrides and isolates: they make "gpj.exe" read as "exe.jpg" on screen.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable_text(text: str) -> str:
    """`text` fit to store and show: NFC, without control characters (NUL, line breaks, bidi overrides)."""
    normal = unicodedata.normalize("NFC", text)
    return "".join(
        ch for ch in normal if unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI_CONTROLS
    ).strip()


def clean_file_name(name: str | None, fallback: str) -> str:
    """A file name fit to store and echo: printable, trimmed to 200 characters; `fallback` when empty."""
    return printable_text(name or "")[:200].strip() or fallback


def reason_for(status: str) -> str:
    """What a cell status means for the writer (the extractor's own words; the web page translates)."""
    from services.extraction.ink import STATUS_MEANING

    return STATUS_MEANING.get(status) or f"the cell cannot be used ({status}): write it again"


class BodySizeLimit:
    """ASGI middleware: refuse request bodies past their limit, before or while they stream in.

    Multipart (photo uploads) may carry `max_upload_bytes()`; any other body (JSON) `max_other_bytes`.
    """

    def __init__(
        self, app: ASGIApp, max_upload_bytes: Callable[[], int], max_other_bytes: int = 64 * 1024
    ) -> None:
        self.app, self.max_upload_bytes, self.max_other_bytes = app, max_upload_bytes, max_other_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if headers.get(b"content-type", b"").startswith(b"multipart/"):
            limit = self.max_upload_bytes()
            message = f"the upload is larger than {size_text(limit)} in all; send fewer photos at a time"
        else:
            limit = self.max_other_bytes
            message = f"the request body is larger than {size_text(limit)}"
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            body = json.dumps({"detail": message}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > limit:
                # FastAPI passes an HTTPException raised while reading the form straight through.
                raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


def sniff_type(data: bytes, name: str) -> str:
    """The file suffix to store a photo under (".jpg", ".png", ".heic" or ".pdf"); raise UploadError for
    anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return ".heic"
    if data.startswith(b"%PDF-"):
        return ".pdf"
    if not data:
        raise UploadError(f"{name}: the file is empty", 422)
    raise UploadError(f"{name}: only JPEG and PNG photos (also HEIC) and PDF scans are accepted", 415)


def check_pixels(data: bytes, name: str, max_pixels: int) -> None:
    """Refuse images with more pixels than `max_pixels`, reading only the header (decompression bombs).
    PDFs are drawn at a bounded resolution by the extractor, which checks them itself."""
    if data.startswith(b"%PDF-"):
        return
    from services.extraction.photo import register_heif

    register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width, height = max_pixels, 2
    except Exception:
        what = "HEIC photo" if data[4:8] == b"ftyp" else "file"
        raise UploadError(
            f"{name}: the {what} is not a readable image: send a JPEG or PNG photo", 422
        ) from None
    if width * height > max_pixels:
        raise UploadError(
            f"{name}: the image has {width * height / 1e6:.0f} million pixels; "
            f"at most {max_pixels / 1e6:.0f} million are accepted",
            413,
        )


def png_bytes(image: np.ndarray) -> bytes:
    """PNG of a grayscale or RGB uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExtractedPage:
    """One photo, read: what to store and what to tell the person."""

    name: str
    page: int
    photo: bytes
    suffix: str
    sheet_png: bytes
    report: dict[str, Any]
    cells: list[GlyphCell]
    to_rewrite: list[dict[str, Any]]


def extract_pages(photos: Sequence[tuple[str, bytes]], max_pixels: int) -> list[ExtractedPage]:
    """Check and extract every photo; raise UploadError (naming the file) at the first bad one.

    CPU-heavy and memory-hungry: callers bound how many run at once (services/api/pages.EXTRACTION_SLOTS).
    """
    from services.extraction.extract import (  # OpenCV pipeline: loaded on first use
        contact_sheet,
        extract_file,
    )

    pages: list[ExtractedPage] = []
    for name, data in photos:
        suffix = sniff_type(data, name)
        check_pixels(data, name, max_pixels)
        try:
            results = extract_file(data, name)  # a PDF or a photo of two pages gives several
        except ValueError as exc:
            raise UploadError(f"{name}: {exc}", 422) from None
        for result in results:
            pages.append(_extracted(result, data, suffix, contact_sheet))
    seen: dict[int, str] = {}
    for p in pages:
        if p.page in seen:
            raise UploadError(
                f"{seen[p.page]} and {p.name} both show page {p.page}: upload one photo per page", 422
            )
        seen[p.page] = p.name
    return pages


def _extracted(
    result: Any, data: bytes, suffix: str, contact_sheet: Callable[[Any], np.ndarray]
) -> ExtractedPage:
    """One page read from an uploaded file (a photo, or a page of a PDF), made storable; raise UploadError
    when nothing is written on it."""
    if all(c.status == "empty" for c in result.cells):
        # Storing it would only replace an earlier, written upload of the page with nothing.
        raise UploadError(
            f"{result.photo}: nothing is written on page {result.page} yet: fill in the boxes, "
            "then photograph the page again",
            422,
        )
    sheet = png_bytes(contact_sheet(result.cells))
    cells = [
        GlyphCell(c.codepoint, c.status, png_bytes(c.image) if c.image is not None else None)
        for c in result.cells
    ]
    to_rewrite = [
        {
            "char": c.char,
            "codepoint": c.codepoint,
            "page": c.page,
            "status": c.status,
            "reason": reason_for(c.status),
        }
        for c in result.cells
        if c.status != "ok"
    ]
    report = _jsonable(result.report)
    return ExtractedPage(result.photo, result.page, data, suffix, sheet, report, cells, to_rewrite)


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    """The report as plain JSON (numpy numbers and tuples made plain), ready for a JSON column."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        return str(value)

    loaded: dict[str, Any] = json.loads(json.dumps(report, default=plain))
    return loaded
