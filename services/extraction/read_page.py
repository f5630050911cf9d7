"""Read one template page found in a photo: register it to the paper, judge the photo, then read its cells."""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from services.extraction.ink import BACKGROUND_STEP, RING_OUTER_PX, flatten_lighting, read_cells
from services.extraction.page_finder import PageFit, outline_corners
from services.extraction.photo import PhotoError
from services.extraction.photo_quality import (
    blur_sigma,
    check_quality,
    check_scale,
    cut_edge,
    glare_boxes,
    marker_contrast,
    sharpness,
)
from services.extraction.registration import Registration, grow_homography, register
from services.extraction.results import CellResult, PageExtraction
from services.extraction.writing_line import LINE_ADVICE, line_state, read_line
from templates.layout import TEMPLATE_VERSION, Page

SOFT_BELOW_SHARPNESS = 10.0  # readable but soft: say so in the report
CUBIC_BELOW_SCALE = 0.65  # photo pixels per page pixel below which the page is enlarged bicubically
MIN_GROWN_FRAMES = 20  # frames that must be found to complete a page seen with one row of markers
FLAT_BELOW_PX = 0.4  # a registration correcting the homography by less than this (page px) is cut flat


def _visible_cells(page: Page, registration: Registration, size: tuple[int, int]) -> list[bool]:
    """Whether each cell's box and overflow ring lie inside the photo."""
    width, height = size
    corners = []
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        m = RING_OUTER_PX
        corners.append([[x0 - m, y0 - m], [x1 + m, y0 - m], [x1 + m, y1 + m], [x0 - m, y1 + m]])
    points = registration.to_photo(np.asarray(corners, np.float64).reshape(-1, 2))
    points = points.reshape(len(page.cells), 4, 2)
    xs, ys = points[..., 0], points[..., 1]
    inside = np.all((xs >= 0) & (xs <= width - 1) & (ys >= 0) & (ys <= height - 1), axis=1)
    return [bool(v) for v in inside.tolist()]


def _scale(registration: Registration) -> float:
    """Photo pixels per page pixel at the middle of the page."""
    width, height = registration.page_size
    centre = np.array([[width / 2, height / 2], [width / 2 + 1, height / 2], [width / 2, height / 2 + 1]])
    p = registration.to_photo(centre)
    (ax, ay), (bx, by) = p[1] - p[0], p[2] - p[0]
    return float(np.sqrt(abs(ax * by - ay * bx)))


def _rectify(gray: np.ndarray, registration: Registration) -> np.ndarray:
    """The page at 300 dpi, cut out of the photo along the registration (outside the photo: black).

    A flat sheet is cut along the homography alone; a bent one through the dense map of the fitted warp.
    Bicubic when the photo has much less resolution than the page (it keeps thin lines sharper when
    enlarging); bilinear otherwise, where it is as good and four times faster.
    """
    interpolation = cv2.INTER_CUBIC if _scale(registration) < CUBIC_BELOW_SCALE else cv2.INTER_LINEAR
    if registration.bend_px < FLAT_BELOW_PX:
        return cv2.warpPerspective(gray, registration.homography, registration.page_size,
                                   flags=interpolation | cv2.WARP_INVERSE_MAP,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    map_xy, map_fraction = registration.photo_maps()
    return cv2.remap(gray, map_xy, map_fraction, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _registration(gray: np.ndarray, fit: PageFit) -> Registration:
    """The page's registration: markers first, completed from the frames when only one row of them shows."""
    by_id = {m.id: m for m in fit.page.markers}
    anchors = np.array([np.mean(by_id[s.id].corners, axis=0) for s in fit.markers])
    if fit.missing_row is not None:
        page_points = np.concatenate([outline_corners(by_id[s.id].corners) for s in fit.markers])
        photo_points = np.concatenate([s.corners for s in fit.markers]).astype(np.float64)
        # The row's own homography is usually close; where its perspective is wild, an affine fit is safer.
        design = np.c_[page_points, np.ones(len(page_points))]
        affine = np.vstack([np.linalg.lstsq(design, photo_points, rcond=None)[0].T, [0.0, 0.0, 1.0]])
        for start in (fit.homography, affine):
            homography, grown = grow_homography(gray, fit.page, start, page_points, photo_points)
            if grown >= MIN_GROWN_FRAMES:
                break
        fit.homography = homography
        if grown < MIN_GROWN_FRAMES:
            raise PhotoError(f"the {fit.missing_row} edge of page {fit.page.page} is cut off and its boxes "
                             "could not be placed without its corner squares: photograph the whole page")
    return register(gray, fit.page, fit.homography, anchors)


def read_page(gray: np.ndarray, fit: PageFit, name: str) -> PageExtraction:
    """Read the page `fit` places in the grayscale photo `gray`; `name` is only used in the report.

    Raises PhotoError with what to do when the photo, not the writing, is the problem (too small in the
    frame, too blurry, too dark): then no cell is judged at all.
    """
    size = (gray.shape[1], gray.shape[0])
    page = fit.page
    registration = _registration(gray, fit)
    notes = list(fit.notes)
    box_px = _scale(registration) * (page.cells[0].box[2] - page.cells[0].box[0])
    scale_note = check_scale(box_px)
    page_gray = _rectify(gray, registration)
    seen_ids = set(fit.marker_ids)
    seen_markers = [m for m in page.markers if m.id in seen_ids]
    sharp = sharpness(page_gray, seen_markers)
    contrast = marker_contrast(page_gray, seen_markers)
    flat = flatten_lighting(page_gray)
    check_quality(sharp, flat.paper_level, contrast)
    if scale_note:
        notes.append(scale_note)
    elif sharp < SOFT_BELOW_SHARPNESS:
        notes.append(f"the photo is somewhat blurry (sharpness {sharp:.0f}); glyphs will be soft, a sharper "
                     "photo from closer would be better")

    visible = _visible_cells(page, registration, size)
    inks, measures = read_cells(flat, page, visible, blur_sigma(sharp))
    glare = glare_boxes(flat.paper, BACKGROUND_STEP, [c.box for c in page.cells])
    cells = []
    for cell, ink, glared in zip(page.cells, inks, glare, strict=True):
        if ink is None:
            cells.append(CellResult(cell.char, cell.codepoint, page.page, "outside", None, photo=name))
            continue
        # Under a reflection the ink is washed out: whatever is read there says nothing sure about the
        # writing (a thinned glyph, or "faint"), so the photo is to blame and the box is not used.
        status = "glare" if glared else ink.status
        cells.append(CellResult(cell.char, cell.codepoint, page.page, status, ink.image, ink.ink_ratio,
                                ink.strength, ink.overflow_px, name))
    counts = Counter(c.status for c in cells)
    centres = np.array([[(c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2] for c in page.cells])
    edge = cut_edge(centres, [not v for v in visible], page.size_px)
    if edge:
        notes.append(f"the {edge} edge of the page is cut off: {counts['outside']} boxes are outside the "
                     "photo; photograph the whole page to read them")
    if counts.get("glare"):
        notes.append(f"avoid the glare: a reflection washes out {counts['glare']} boxes; retake the photo "
                     "with the light from the side")
    if registration.bend_px > 6.0 and registration.residual_px > 1.0:
        notes.append("the sheet is not flat: flatten it on a table for a better photo")
    report = {
        "file": name,
        "page": page.page,
        "template_version": TEMPLATE_VERSION,
        "photo_size": list(size),
        "markers_found": fit.marker_ids,
        "markers_expected": [m.id for m in page.markers],
        "reprojection_error_px": round(fit.reprojection_error_px, 3),
        "frames_found": registration.frames_found,
        "registration_residual_px": round(registration.residual_px, 3),
        "registration_correction_px": round(registration.bend_px, 2),
        "box_photo_px": round(box_px, 1),
        "sharpness": round(sharp, 1),
        "exposure": round(flat.paper_level, 3),
        "contrast": round(contrast, 3),
        **measures,
        "cells": dict(counts),
        "status": "used",
        "message": "; ".join([f"page {page.page}: {counts.get('ok', 0)} of {len(cells)} cells read", *notes]),
    }
    line = read_line(flat, page, registration, size)  # the writing line's ink, on pages that have one
    if page.line is not None:
        report["writing_line"] = line_state(line)
        if report["writing_line"] != "written":
            report["message"] += f"; {LINE_ADVICE[report['writing_line']]}"
    return PageExtraction(name, page.page, report, cells, line)
