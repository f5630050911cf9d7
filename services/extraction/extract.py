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

import cv2
import numpy as np

from services.extraction.contact_sheet import contact_sheet
from services.extraction.ink import RING_OUTER_PX, USABLE, flatten_lighting, read_cells
from services.extraction.output import write_extraction
from services.extraction.page_finder import PageFit, detect_markers, fit_page
from services.extraction.photo import PhotoError, decode_photo
from services.extraction.photo_quality import blur_sigma, check_quality, marker_contrast, sharpness
from services.extraction.results import CellResult, Extraction, PageExtraction
from templates.layout import TEMPLATE_VERSION, Page, build_layout

SOFT_BELOW_SHARPNESS = 10.0  # readable but soft: say so in the report
CUBIC_BELOW_SCALE = 0.65  # photo pixels per page pixel below which the page is enlarged bicubically

__all__ = ["USABLE", "CellResult", "Extraction", "PageExtraction", "PhotoError", "contact_sheet",
           "extract_photo", "merge_pages", "write_extraction"]


def _visible_cells(page: Page, homography: np.ndarray, size: tuple[int, int]) -> list[bool]:
    """Whether each cell's box and overflow ring lie inside the photo."""
    width, height = size
    corners = []
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        m = RING_OUTER_PX
        corners.append([[x0 - m, y0 - m], [x1 + m, y0 - m], [x1 + m, y1 + m], [x0 - m, y1 + m]])
    points = cv2.perspectiveTransform(np.asarray(corners, np.float64).reshape(-1, 1, 2), homography)
    points = points.reshape(len(page.cells), 4, 2)
    xs, ys = points[..., 0], points[..., 1]
    inside = np.all((xs >= 0) & (xs <= width - 1) & (ys >= 0) & (ys <= height - 1), axis=1)
    return [bool(v) for v in inside.tolist()]


def _rectify(gray: np.ndarray, fit: PageFit) -> np.ndarray:
    """The page at 300 dpi, cut out of the photo along the homography (outside the photo: black).

    Bicubic when the photo has much less resolution than the page (it keeps thin lines sharper when
    enlarging); bilinear otherwise, where it is as good and four times faster.
    """
    width, height = fit.page.size_px
    centre = np.array([[[width / 2, height / 2], [width / 2 + 1, height / 2], [width / 2, height / 2 + 1]]])
    p = cv2.perspectiveTransform(centre, fit.homography)[0]
    (ax, ay), (bx, by) = p[1] - p[0], p[2] - p[0]
    scale = np.sqrt(abs(ax * by - ay * bx))  # photo px per page px
    interpolation = cv2.INTER_CUBIC if scale < CUBIC_BELOW_SCALE else cv2.INTER_LINEAR
    return cv2.warpPerspective(gray, fit.homography, fit.page.size_px,
                               flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)


def extract_photo(data: bytes, name: str) -> PageExtraction:
    """Read one photo (image bytes; `name` is only used in the report) of a filled-in template page.

    Returns the page found, a JSON-able report (markers, reprojection error, sharpness, exposure) and one
    CellResult per cell of that page. Raises PhotoError when the bytes are not a readable photo of a page of
    the current template, or the photo is too blurry or dark to read.
    """
    gray = decode_photo(data)
    size = (gray.shape[1], gray.shape[0])
    fit = fit_page(detect_markers(gray), size)
    page_gray = _rectify(gray, fit)
    seen_ids = set(fit.marker_ids)
    seen_markers = [m for m in fit.page.markers if m.id in seen_ids]
    sharp = sharpness(page_gray, seen_markers)
    contrast = marker_contrast(page_gray, seen_markers)
    flat = flatten_lighting(page_gray)
    check_quality(sharp, flat.paper_level, contrast)
    notes = list(fit.notes)
    if sharp < SOFT_BELOW_SHARPNESS:
        notes.append(f"the photo is somewhat blurry (sharpness {sharp:.0f}); glyphs will be soft, a sharper "
                     "photo from closer would be better")

    visible = _visible_cells(fit.page, fit.homography, size)
    inks, measures = read_cells(flat, fit.page, visible, blur_sigma(sharp))
    cells = []
    for cell, ink in zip(fit.page.cells, inks, strict=True):
        if ink is None:
            cells.append(CellResult(cell.char, cell.codepoint, fit.page.page, "outside", None, photo=name))
        else:
            cells.append(CellResult(cell.char, cell.codepoint, fit.page.page, ink.status, ink.image,
                                    ink.ink_ratio, ink.strength, ink.overflow_px, name))
    counts = Counter(c.status for c in cells)
    report = {
        "file": name,
        "page": fit.page.page,
        "template_version": TEMPLATE_VERSION,
        "photo_size": list(size),
        "markers_found": fit.marker_ids,
        "markers_expected": [m.id for m in fit.page.markers],
        "reprojection_error_px": round(fit.reprojection_error_px, 3),
        "sharpness": round(sharp, 1),
        "exposure": round(flat.paper_level, 3),
        "contrast": round(contrast, 3),
        **measures,
        "cells": dict(counts),
        "status": "used",
        "message": "; ".join([f"page {fit.page.page}: {counts.get('ok', 0)} of {len(cells)} cells read",
                              *notes]),
    }
    return PageExtraction(name, fit.page.page, report, cells)


def merge_pages(pages: Sequence[PageExtraction]) -> Extraction:
    """Combine photos into one Extraction covering every template cell.

    When several photos show the same page, the best (most readable cells, then sharpest) is used and the
    others are marked superseded in the report; a cell unreadable in the best photo but "ok" in another is
    taken from that one. Pages no photo shows give cells with status "missing".
    """
    layout = build_layout()
    by_page: dict[int, list[PageExtraction]] = {}
    for extraction in pages:
        by_page.setdefault(extraction.page, []).append(extraction)
    photos: list[dict[str, Any]] = []
    cells: list[CellResult] = []
    notes: list[str] = []
    for page in layout.pages:
        shots = sorted(by_page.get(page.page, []), key=lambda e: e.quality, reverse=True)
        if not shots:
            notes.append(f"page {page.page} was not photographed")
            cells += [CellResult(c.char, c.codepoint, page.page, "missing", None) for c in page.cells]
            continue
        best, rest = shots[0], shots[1:]
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
    return Extraction(TEMPLATE_VERSION, photos, cells, notes)
