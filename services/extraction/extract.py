"""Extraction stage: photos of filled-in template pages -> one writing-box glyph image per character, a report
and a contact sheet.

    >>> from services.extraction.extract import extract_photo, merge_pages, write_extraction
    >>> pages = [extract_photo(p.read_bytes(), p.name) for p in photos]       # doctest: +SKIP
    >>> write_extraction(merge_pages(pages), Path("out/extract"))             # doctest: +SKIP

Each photo is read on its own (`extract_photo`, raises PhotoError for bad input); photos are then combined
(`merge_pages`: every template cell once, the better photo of a page wins) and written atomically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from services.extraction.contact_sheet import contact_sheet
from services.extraction.document import decode_document, decode_single
from services.extraction.ink import USABLE
from services.extraction.output import write_extraction
from services.extraction.page_finder import detect_markers, fit_pages
from services.extraction.photo import PhotoError
from services.extraction.read_page import read_page
from services.extraction.results import CellResult, Extraction, PageExtraction
from services.extraction.writing_line import estimate_spacing
from templates.layout import TEMPLATE_VERSION, build_layout

__all__ = ["USABLE", "CellResult", "Extraction", "PageExtraction", "PhotoError", "contact_sheet",
           "extract_file", "extract_photo", "merge_pages", "write_extraction"]


def extract_photo(data: bytes, name: str) -> PageExtraction:
    """Read one photo (image bytes; `name` is only used in the report) of a filled-in template page.

    Returns the page found (the one showing most markers, when a photo shows two), a JSON-able report
    (markers, registration, sharpness, exposure) and one CellResult per cell of that page. Raises PhotoError
    when the bytes are not a readable photo of a page of the current template, or the photo is too small,
    blurry or dark to read.
    """
    gray = decode_single(data)
    fits = fit_pages(detect_markers(gray), (gray.shape[1], gray.shape[0]))
    return read_page(gray, fits[0], name)


def extract_file(data: bytes, name: str) -> list[PageExtraction]:
    """Read every template page in one file: a photo (one page, or two side by side) or a PDF (each of its
    pages). Names in the report are `name`, or `name (page N of the PDF)`.

    Raises PhotoError naming the PDF page when one of them cannot be read; a photo showing two pages of
    which only one is readable gives that one, with a note saying so.
    """
    images = decode_document(data)
    pages: list[PageExtraction] = []
    for index, gray in enumerate(images, start=1):
        label = name if len(images) == 1 else f"{name} (page {index} of the PDF)"
        try:
            fits = fit_pages(detect_markers(gray), (gray.shape[1], gray.shape[0]))
            read: list[PageExtraction] = []
            problems: list[str] = []
            for fit in fits:
                try:
                    read.append(read_page(gray, fit, label))
                except PhotoError as exc:
                    if len(fits) == 1:
                        raise
                    problems.append(f"page {fit.page.page} could not be read ({exc})")
            if not read:
                raise PhotoError("; ".join(problems))
            if problems:
                first = read[0].report
                first["message"] = "; ".join([first["message"], *problems])
            pages += read
        except PhotoError as exc:
            if len(images) == 1:
                raise
            raise PhotoError(f"page {index} of the PDF: {exc}") from exc
    return pages


def merge_pages(pages: Sequence[PageExtraction]) -> Extraction:
    """Combine photos into one Extraction covering every template cell.

    When several photos show the same page, the best (most readable cells, then sharpest) is used and the
    others are marked superseded in the report; a cell unreadable in the best photo but "ok" in another is
    taken from that one. Pages no photo shows give cells with status "missing". The writing line is read
    from the best photo that shows it, against the writer's Hangul boxes.
    """
    layout = build_layout()
    by_page: dict[int, list[PageExtraction]] = {}
    for extraction in pages:
        by_page.setdefault(extraction.page, []).append(extraction)
    photos: list[dict[str, Any]] = []
    cells: list[CellResult] = []
    notes: list[str] = []
    lines: list[tuple[str, Any]] = []  # (phrase, ink mask) of the writing line, best photo first
    for page in layout.pages:
        shots = sorted(by_page.get(page.page, []), key=lambda e: e.quality, reverse=True)
        if not shots:
            notes.append(f"page {page.page} was not photographed")
            cells += [CellResult(c.char, c.codepoint, page.page, "missing", None) for c in page.cells]
            continue
        best, rest = shots[0], shots[1:]
        if page.line is not None:
            lines += [(page.line.phrase, shot.line) for shot in shots if shot.line is not None]
        chosen = list(best.cells)
        borrowed: Counter[str] = Counter()
        for index, cell in enumerate(chosen):
            if cell.usable:
                continue
            for other in rest:
                if other.cells[index].usable:
                    chosen[index] = other.cells[index]
                    borrowed[other.photo] += 1
                    break
        cells += chosen
        photos.append(dict(best.report))
        for other in rest:
            entry = dict(other.report)
            used = borrowed.get(other.photo, 0)
            entry["status"] = "partly used" if used else "superseded"
            entry["message"] = (f"page {page.page} is also in {best.photo}, which is sharper or shows more "
                                f"of the page (sharpness {best.report['sharpness']} against "
                                f"{other.report['sharpness']})"
                                + (f"; {used} cells taken from this photo" if used else "; not used"))
            photos.append(entry)
    return Extraction(TEMPLATE_VERSION, photos, cells, notes, _spacing(lines, cells))


def _spacing(lines: list[tuple[str, Any]], cells: list[CellResult]) -> dict[str, Any]:
    """The writer's spacing read from the first writing line, or why there is none."""
    if not lines:
        return {"status": "not written", "message": "the writing line was not photographed; the fonts use "
                                                     "the default spacing"}
    boxes = {c.char: c.image for c in cells
             if c.usable and c.image is not None and 0xAC00 <= c.codepoint <= 0xD7A3}
    phrase, mask = lines[0]
    return estimate_spacing(mask, phrase, boxes)
