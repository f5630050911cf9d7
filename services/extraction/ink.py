"""Read the ink in each writing box of a rectified page: flatten the lighting, remove the printed guides,
classify the cell (ok, empty, faint, overflow, smudged) and draw its glyph image (blur undone, contrast
normalized)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from services.extraction.glyph_image import (
    FIT_FROM_SIGMA,
    SAME_PEN_RATIO,
    draw,
    fit_darkness,
    fit_strokes,
    ink_scale,
    pen_darkness,
    restore,
    sharpen,
)
from templates.layout import Cell, Page, build_layout
from templates.render import OUTLINE_PX, page_array

BACKGROUND_STEP = 8  # lighting is estimated on a page shrunk this much...
BACKGROUND_KERNEL = 9  # ...with a closing this wide (72 page px: wider than any pen stroke)
PAPER_FRACTION = 0.88  # pixels darker than this share of the first paper guess are not paper
NORMALIZED_SIGMAS = (4.0, 1.5)  # neighbourhoods (shrunken pixels) over which paper pixels are averaged
RING_OUTER_PX = 18  # ink crossing the box edge is followed this far: short of the next cell's outline
# (26 px away) and label strip (22 px below)
GUIDE_PERCENTILE = 30  # guides seen in a box: this percentile over all boxes (ignores ink in up to 70 %)
MIN_INK_THRESHOLD = 0.12  # darkness (0 paper .. 1 black) above which a pixel may be ink
MIN_COMPONENT_PX = 12  # specks smaller than this are dust or noise, not writing
EMPTY_MAX_PX = 40  # a box with less ink than this was left blank
FAINT_STRENGTH = 0.3  # ink whose typical darkness is below this is too light (pencil pressed lightly)
OVERFLOW_MIN_PX = 20  # pixels of the box's ink beyond its edge that make a cell "overflow"
OVERFLOW_MARGIN_PX = 5  # ...counted only past the printed frame (3 px) and a pixel or two of registration
SMUDGED_RATIO = 0.45  # a box more than this much covered is smudged, crossed out or covered
COVERED_RATIO = 0.7  # paper in a box this much darker than around it is a blot or a thumb, not light
USABLE = frozenset({"ok"})  # statuses whose glyph image is written out

STATUS_MEANING = {
    "ok": "read",
    "empty": "nothing written",
    "faint": "ink too light (pencil pressed lightly?): go over it with a dark pen",
    "overflow": "the writing crosses the box edge: write it again inside the box",
    "smudged": "the box is mostly dark (crossed out, smudged or covered)",
    "outside": "the box is not in the photo",
    "glare": "a reflection on the photo washes this box out: retake the photo without the glare",
    "missing": "no photo of this page",
}


@dataclass
class Flattened:
    """A rectified page with its lighting divided out."""

    darkness: np.ndarray  # uint8 page-size: 0 paper .. 255 black, relative to the local paper
    paper: np.ndarray  # uint8 paper brightness estimate, 1/BACKGROUND_STEP of the page size
    paper_level: float  # median paper brightness, 0..1 (the photo's exposure)


@dataclass
class _Measured:
    """One box as classified, with what drawing its glyph image needs."""

    status: str
    strength: float
    ink_ratio: float
    overflow_px: int
    mask: np.ndarray  # box-size bool: the ink components kept
    ink: np.ndarray  # box-size float32 ink darkness as measured (faint boxes are shown like this)
    seen: np.ndarray | None  # region-size float32 ink, exact guides out, blur not undone (ok boxes only)


@dataclass
class CellInk:
    """What one writing box holds."""

    status: str
    image: np.ndarray  # uint8, box size: 255 paper, 0 darkest ink (contrast normalized), guides removed
    ink_ratio: float  # share of the box covered by ink
    strength: float  # typical ink darkness before normalization, 0..1
    overflow_px: int  # ink pixels found beyond the box outline


def flatten_lighting(page_gray: np.ndarray) -> Flattened:
    """Divide a rectified page (uint8 brightness) by its estimated paper brightness.

    First guess: a morphological closing of a shrunken copy, which erases strokes, labels and outlines but
    follows gradients and soft shadows. Where writing is dense that guess is too dark (a shrunken pixel
    holds more ink than paper), so the paper is estimated again from the pixels the first guess calls paper
    only, averaged over their neighbourhood (normalized convolution). Every pixel is then divided by it.
    """
    height, width = page_gray.shape
    small_size = (width // BACKGROUND_STEP, height // BACKGROUND_STEP)
    small = cv2.resize(page_gray, small_size, interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BACKGROUND_KERNEL, BACKGROUND_KERNEL))
    guess = cv2.GaussianBlur(cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel), (0, 0), 1.5)
    guess_full = cv2.resize(guess, (width, height), interpolation=cv2.INTER_LINEAR)

    # Paper pixels: brighter than PAPER_FRACTION of the guess, and not in the halo of a stroke.
    ink = cv2.compare(page_gray, cv2.convertScaleAbs(guess_full, alpha=PAPER_FRACTION), cv2.CMP_LT)
    paper_mask = cv2.bitwise_not(cv2.dilate(ink, np.ones((5, 5), np.uint8)))
    kept = cv2.bitwise_and(page_gray, paper_mask)
    total = cv2.resize(kept, small_size, interpolation=cv2.INTER_AREA).astype(np.float32)
    weight = cv2.resize(paper_mask, small_size, interpolation=cv2.INTER_AREA).astype(np.float32)
    paper = guess.astype(np.float32)
    # Coarse first, then fine where there is enough paper close by. Where no paper is near at all (a blot,
    # a thumb) the first guess stays; _covered() notices it.
    for sigma in NORMALIZED_SIGMAS:
        near_total = cv2.GaussianBlur(total, (0, 0), sigma)
        near_weight = cv2.GaussianBlur(weight, (0, 0), sigma)
        paper = np.where(near_weight > 40.0, 255.0 * near_total / np.maximum(near_weight, 1e-3), paper)
    paper = np.clip(paper + 0.5, 1, 255).astype(np.uint8)
    paper_level = float(np.median(paper)) / 255.0
    paper_full = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    # uint8 arithmetic saturates (brighter than the paper reads as paper) and is several times faster.
    flat = cv2.divide(page_gray, paper_full, scale=255)
    return Flattened(cv2.bitwise_not(flat), paper, paper_level)


def _covered(paper: np.ndarray, cell: Cell) -> bool:
    """True if the paper inside the box looks much darker than around it: something wider than the closing
    (a blot, a scribbled-out patch, a thumb) sits in the box and was taken for lighting."""
    step, margin = BACKGROUND_STEP, 4
    x0, y0, x1, y1 = (v // step for v in cell.box)
    inside = paper[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
    around = paper[y0 - margin:y1 + margin, x0 - margin:x1 + margin].copy()
    around[margin:-margin, margin:-margin] = 255
    return inside.size > 0 and float(inside.min()) < COVERED_RATIO * float(around.min())


def _region(cell: Cell) -> tuple[int, int, int, int]:
    """The box grown by RING_OUTER_PX on every side: where a cell's ink, crossing or not, can be."""
    x0, y0, x1, y1 = cell.box
    return x0 - RING_OUTER_PX, y0 - RING_OUTER_PX, x1 + RING_OUTER_PX, y1 + RING_OUTER_PX


def guide_profile(darkness: np.ndarray, cells: Sequence[Cell]) -> np.ndarray:
    """Return what the printed guides look like around a box in this photo (region-size float32, 0..1).

    Every box carries the same guides at the same place (its outline, the Latin baseline), while the ink
    differs from box to box, so a low percentile over the boxes keeps the guides and drops the ink.
    """
    stack = np.stack([darkness[y0:y1, x0:x1] for x0, y0, x1, y1 in map(_region, cells)])
    index = int(len(cells) * GUIDE_PERCENTILE / 100)
    return np.partition(stack, index, axis=0)[index].astype(np.float32) / 255.0


def tolerant(profile: np.ndarray) -> np.ndarray:
    """The guides grown by a pixel, to tolerate a pixel of misregistration between boxes when deciding what
    is ink: no remnant of a guide may pass for writing. Grown guides also take darkness off ink beside
    them (the bottom of every Latin letter sits on the baseline), so glyph images use the exact profile."""
    return cv2.dilate(profile, np.ones((3, 3), np.uint8))


def _remove_guides(region: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Ink darkness (0..1) of a region with the guides' darkness taken out: ink over a guide absorbs like
    both, 1 - region = (1 - ink) (1 - guide)."""
    return np.clip((region - profile) / (1.0 - profile), 0.0, 1.0)


def noise_level(darkness: np.ndarray, cells: Sequence[Cell], profiles: dict[str, np.ndarray]) -> float:
    """Robust standard deviation of blank paper inside the boxes (after guide removal), from 20 boxes.

    Darkness is clipped at 0 (paper brighter than its estimate reads as paper), so only the dark half of the
    noise is seen: with the paper at about 0, its 75th percentile is 0.674 sigma. Ink, a minority of the
    pixels, stays above that percentile.
    """
    m = RING_OUTER_PX
    samples = []
    for cell in cells[:: max(1, len(cells) // 20)]:
        x0, y0, x1, y1 = cell.box
        guide = profiles[cell.script][m:m + y1 - y0:4, m:m + x1 - x0:4]
        samples.append((darkness[y0:y1:4, x0:x1:4] / 255.0 - guide).ravel())
    return float(np.percentile(np.concatenate(samples), 75)) / 0.674


@functools.cache
def _label_masks(page_number: int) -> tuple[np.ndarray, ...]:
    """Per cell of a page: where in its region something other than the guides is printed (labels); cached.

    Found by rendering the page itself and leaving out each box's outline frame, which guide_profile handles.
    """
    page = build_layout().page(page_number)
    printed = (cv2.cvtColor(page_array(page), cv2.COLOR_RGB2GRAY) < 235).astype(np.uint8)
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        printed[y0 - OUTLINE_PX:y1 + OUTLINE_PX, x0 - OUTLINE_PX:x1 + OUTLINE_PX] = 0
    grown = cv2.dilate(printed, np.ones((7, 7), np.uint8))
    return tuple(grown[y0:y1, x0:x1].astype(bool) for x0, y0, x1, y1 in map(_region, page.cells))


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of a mask (8-connected): count, label image and per-label pixel counts."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return count, labels, stats[:, cv2.CC_STAT_AREA]


def _measure(flat: Flattened, page: Page, index: int, profile: np.ndarray, threshold: float,
             blur_sigma: float) -> _Measured:
    """Classify one box (`profile`: the guides from guide_profile; `threshold`: the darkness above which a
    pixel may be ink; `blur_sigma`: the photo's blur in page px) and, if it reads ok, restore its ink."""
    darkness = flat.darkness
    cell = page.cells[index]
    rx0, ry0, rx1, ry1 = _region(cell)
    region = darkness[ry0:ry1, rx0:rx1].astype(np.float32) / 255.0
    ink = sharpen(_remove_guides(region, tolerant(profile)), blur_sigma)
    inside = np.zeros(ink.shape, bool)
    m = RING_OUTER_PX
    inside[m:-m, m:-m] = True

    count, labels, areas = _components((ink >= threshold) & ~_label_masks(page.page)[index])
    in_box = np.bincount(labels[inside], minlength=count)
    total = areas.copy()
    total[0] = 0
    # Specks are dust or noise; a piece of a stroke that crosses the edge is kept however little is inside.
    kept = (total >= MIN_COMPONENT_PX) & (in_box > 0)
    # Ink crosses the edge only where it goes past the printed frame: a remnant of the frame itself (a pixel
    # or two of misregistration) touches the box but never reaches beyond it.
    near = np.zeros(ink.shape, bool)
    grown = m - OVERFLOW_MARGIN_PX
    near[grown:-grown, grown:-grown] = True
    beyond = np.bincount(labels[~near], minlength=count)
    overflow_px = int(beyond[kept].sum())

    box_labels = labels[m:-m, m:-m]
    mask = kept[box_labels]
    box_ink = ink[m:-m, m:-m]
    ink_px = int(mask.sum())
    strength = float(np.percentile(box_ink[mask], 98)) if ink_px else 0.0
    ratio = ink_px / mask.size
    if overflow_px >= OVERFLOW_MIN_PX:
        status = "overflow"
    elif ink_px < EMPTY_MAX_PX:
        status = "empty"
    elif ratio > SMUDGED_RATIO or _covered(flat.paper, cell):
        status = "smudged"
    elif strength < FAINT_STRENGTH:
        status = "faint"
    else:
        status = "ok"
    seen = _remove_guides(region, profile) if status == "ok" else None
    return _Measured(status, strength, ratio, overflow_px, mask, box_ink, seen)


def _cell_ink(m: _Measured, pen: float, blur_sigma: float, fit_pen: float) -> CellInk:
    """The CellInk of a measured box on a page written with `pen` darkness, with its glyph image.

    Ok boxes are drawn from their ink with the blur undone, on the pen's darkness (see glyph_image): fitted
    as strokes of `fit_pen` darkness on a soft photo, unsharp-masked otherwise or when the box is in a
    lighter pen. Faint ink is shown as faint as it is (on the contact sheet); other statuses are stretched
    to their own strength.
    """
    ring = RING_OUTER_PX
    if m.seen is not None and blur_sigma >= FIT_FROM_SIGMA and m.strength >= SAME_PEN_RATIO * pen > 0:
        image = draw(fit_strokes(m.seen, blur_sigma, fit_pen)[ring:-ring, ring:-ring], m.mask, fit_pen)
    elif m.seen is not None:
        image = draw(restore(m.seen, blur_sigma)[ring:-ring, ring:-ring], m.mask, ink_scale(m.strength, pen))
    else:
        image = draw(m.ink, m.mask, 1.0 if m.status == "faint" else m.strength)
    return CellInk(m.status, image, round(m.ink_ratio, 4), round(m.strength, 3), m.overflow_px)


def read_cells(flat: Flattened, page: Page, visible: Sequence[bool],
               blur_sigma: float = 0.0) -> tuple[list[CellInk | None], dict[str, Any]]:
    """Read every cell of a rectified page; cells not `visible` (outside the photo) come back as None.

    Returns the cells in page order and a dict of page-level measurements (noise, ink threshold).
    """
    darkness = flat.darkness
    seen = [c for c, v in zip(page.cells, visible, strict=True) if v]
    if not seen:
        return [None] * len(page.cells), {"noise": None, "ink_threshold": None}
    profiles: dict[str, np.ndarray] = {}
    for script in {c.script for c in seen}:  # guides differ by script (Latin boxes carry a baseline)
        profiles[script] = guide_profile(darkness, [c for c in seen if c.script == script])
    noise = noise_level(darkness, seen, {script: tolerant(p) for script, p in profiles.items()})
    threshold = max(MIN_INK_THRESHOLD, 5.0 * noise)
    measured = [_measure(flat, page, i, profiles[c.script], threshold, blur_sigma) if v else None
                for i, (c, v) in enumerate(zip(page.cells, visible, strict=True))]
    ok = [m for m in measured if m is not None and m.seen is not None]
    level = pen_darkness([m.strength for m in ok])
    ring = RING_OUTER_PX
    fit_pen = fit_darkness([v.seen[ring:-ring, ring:-ring][v.mask] for v in ok if v.seen is not None
                            and v.strength >= SAME_PEN_RATIO * level])
    cells = [None if v is None else _cell_ink(v, level, blur_sigma, fit_pen) for v in measured]
    measures = {"noise": round(noise, 4), "ink_threshold": round(threshold, 3), "ink_level": round(level, 3),
                "fit_level": round(fit_pen, 3) if blur_sigma >= FIT_FROM_SIGMA else None}
    return cells, measures
