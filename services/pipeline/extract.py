"""Extraction stage: photos of filled-in template pages -> one writing-box glyph image per character, a report
and a contact sheet.

    >>> from services.pipeline.extract import extract_photo, merge_pages, write_extraction
    >>> pages = [extract_photo(p.read_bytes(), p.name) for p in photos]       # doctest: +SKIP
    >>> write_extraction(merge_pages(pages), Path("out/extract"))             # doctest: +SKIP

Each photo is read on its own (`extract_photo`, raises PhotoError for bad input); photos are then combined
(`merge_pages`: every template cell once, the better photo of a page wins) and written atomically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from services.pipeline.contact_sheet import contact_sheet
from services.pipeline.ink import RING_OUTER_PX, STATUS_MEANING, USABLE, flatten_lighting, read_cells
from services.pipeline.output import write_extraction
from services.pipeline.page_finder import PageFit, detect_markers, fit_page
from services.pipeline.photo import PhotoError, decode_photo
from services.pipeline.photo_quality import blur_sigma, check_quality, marker_contrast, sharpness
from templates.layout import TEMPLATE_VERSION, Page, build_layout

SOFT_BELOW_SHARPNESS = 10.0  # readable but soft: say so in the report
CUBIC_BELOW_SCALE = 0.65  # photo pixels per page pixel below which the page is enlarged bicubically

__all__ = ["USABLE", "CellResult", "Extraction", "PageExtraction", "PhotoError", "contact_sheet",
           "extract_photo", "merge_pages", "write_extraction"]


@dataclass
class CellResult:
    """One template cell as read from a photo (or not): status and, when read, its writing-box image."""

    char: str
    codepoint: int
    page: int
    status: str  # ok | empty | faint | overflow | smudged | outside | missing
    image: np.ndarray | None  # uint8 grayscale writing box (255 paper); None when the cell was not seen
    ink_ratio: float = 0.0  # share of the box covered by ink
    strength: float = 0.0  # typical ink darkness before contrast normalization (0..1)
    overflow_px: int = 0  # ink pixels beyond the box outline
    photo: str | None = None  # the photo it was read from

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    @property
    def file_name(self) -> str:
        return f"U+{self.codepoint:04X}.png"

    def to_report(self) -> dict[str, Any]:
        return {
            "char": self.char, "codepoint": self.codepoint, "page": self.page, "status": self.status,
            "file": f"glyphs/{self.file_name}" if self.usable else None, "photo": self.photo,
            "ink_ratio": self.ink_ratio, "strength": self.strength, "overflow_px": self.overflow_px,
            "message": STATUS_MEANING.get(self.status, ""),
        }


@dataclass
class PageExtraction:
    """Everything read from one photo: the page it shows, a JSON-able report and its cells in layout order."""

    photo: str
    page: int
    report: dict[str, Any]
    cells: list[CellResult]

    @property
    def quality(self) -> float:
        """How good this photo's glyph images are: sharpness (effective resolution) times the share of
        cells it shows (not cut off or covered). Photos of one page show the same writing; this is what
        differs.
        """
        shown = sum(c.status not in ("outside", "smudged") for c in self.cells) / max(1, len(self.cells))
        return float(self.report["sharpness"]) * shown


@dataclass
class Extraction:
    """All photos of one upload combined: every template cell once, plus a report entry per photo."""

    template_version: str
    photos: list[dict[str, Any]]
    cells: list[CellResult]
    notes: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """The report.json document."""
        cells = [c for p in build_layout().pages for c in p.cells]
        sizes = sorted({(c.box[2] - c.box[0], c.box[3] - c.box[1]) for c in cells})
        return {
            "template_version": self.template_version,
            "dpi": build_layout().dpi,
            "box_size_px": list(sizes[0]) if len(sizes) == 1 else [list(s) for s in sizes],
            "summary": dict(Counter(c.status for c in self.cells)),
            "notes": self.notes,
            "photos": self.photos,
            "cells": [c.to_report() for c in self.cells],
        }


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
