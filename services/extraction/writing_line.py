"""Reads the writing line: how far apart the writer sets syllables and words in running text.

The Latin page has a ruled strip (`templates.layout.WritingLine`) where the writer writes a known phrase as
they normally write. Its ink is split into syllables at the empty columns between them (the phrase's
syllables have stacked vowels, so one syllable's ink has no empty column); the widest gap is the space.
The median gap between neighbouring syllables (their side bearings together) and the space (the widest gap
less one such gap) are reported as shares of the writer's median syllable ink extent, max(width, height),
taken from their writing boxes and brought to the line's size by comparing each syllable's ink height on
the line with its height in its box. `normalize` in packaging uses them for the advances and the space.

    >>> spacing = estimate_spacing(line_mask(darkness), "우주를 보는", boxes)   # doctest: +SKIP
    >>> spacing["status"], spacing.get("gap"), spacing.get("space")           # "measured", 0.2, 0.66

A line that is empty (an old printout, or not filled in), unreadable or implausible gives a status other
than "measured" and no figures; the fonts then use the default spacing.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from statistics import median
from typing import Any

import cv2
import numpy as np

from services.extraction.ink import MIN_COMPONENT_PX, MIN_INK_THRESHOLD, Flattened
from services.extraction.registration import Registration
from templates.layout import Page

INSET_PX = 10  # the strip is read this far inside its printed frame (drawn outside it), so a
# registration error of a few pixels never shows the frame as a stroke at the line's end
MIN_INK_PX = 600  # less ink than this on the line: nothing was written
INK_SHARE = 0.35  # of the line's darkest ink (99.5th percentile), above which a pixel is ink
BOX_INK_LEVEL = 128  # glyph images: darker than this is ink
MIN_BOXES = 3  # phrase syllables read from their boxes needed to scale the line
PLAUSIBLE_GAP = (-0.15, 0.8)  # measured figures outside these are a misreading, not a hand
PLAUSIBLE_SPACE = (-0.1, 2.0)
GAP_RANGE = (0.0, 0.45)  # measured figures are kept inside these
SPACE_RANGE = (0.1, 1.2)
FALLBACK = "the fonts use the default spacing"


def line_mask(darkness: np.ndarray) -> np.ndarray:
    """Return the ink of a writing strip (uint8 darkness, 0 paper .. 255 black) as a bool mask.

    The printed baseline runs across the whole strip, so each row's median darkness (the guide, or paper)
    is taken away first; specks smaller than MIN_COMPONENT_PX are dropped.
    """
    residual = darkness.astype(np.float32) - np.median(darkness, axis=1, keepdims=True)
    top = float(np.percentile(residual, 99.5)) if residual.size else 0.0
    mask = residual > max(255 * MIN_INK_THRESHOLD, INK_SHARE * top)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= MIN_COMPONENT_PX
    return np.asarray(keep[labels])


def read_line(
    flat: Flattened, page: Page, registration: Registration, size: tuple[int, int]
) -> np.ndarray | None:
    """Return the ink mask of the page's writing line, or None when the page has none or it is cut off."""
    if page.line is None:
        return None
    x0, y0, x1, y1 = page.line.box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    points = registration.to_photo(corners)
    width, height = size
    if not np.all((points[:, 0] >= 0) & (points[:, 0] <= width - 1) & (points[:, 1] >= 0)
                  & (points[:, 1] <= height - 1)):
        return None
    strip = flat.darkness[y0 + INSET_PX:y1 - INSET_PX, x0 + INSET_PX:x1 - INSET_PX]
    return line_mask(strip)


LINE_ADVICE = {
    "empty": "the writing line is empty: write the phrase on it as you normally write, so the font sets "
             "syllables as far apart as you do (without it the font uses a typical spacing)",
    "out of frame": "the writing line is outside the photo: photograph the whole page to have your spacing "
                    "measured",
}


def line_state(mask: np.ndarray | None) -> str:
    """"written", "empty" or "out of frame", for the page report (the spacing is measured at build time)."""
    if mask is None:
        return "out of frame"
    return "written" if int(mask.sum()) >= MIN_INK_PX else "empty"


def _ink_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the ink in a glyph image (255 paper), or None without ink."""
    ys, xs = np.nonzero(image < BOX_INK_LEVEL)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _gaps(mask: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return (segments, gaps) as column ranges: runs of inked and of empty columns inside the ink."""
    inked = np.asarray(mask.any(axis=0), bool)
    columns = np.flatnonzero(inked)
    first, last = int(columns[0]), int(columns[-1]) + 1
    edges = np.flatnonzero(np.diff(inked[first:last].astype(np.int8))) + 1 + first
    bounds = [first, *edges.tolist(), last]
    runs = list(itertools.pairwise(bounds))
    return runs[0::2], runs[1::2]


def _merge_to(segments: list[tuple[int, int]], gaps: list[tuple[int, int]], count: int) -> tuple[
        list[tuple[int, int]], list[tuple[int, int]]]:
    """Close the narrowest gaps (inside a syllable, or a lifted pen) until `count` segments remain."""
    segments, gaps = list(segments), list(gaps)
    while len(segments) > count:
        i = min(range(len(gaps)), key=lambda k: gaps[k][1] - gaps[k][0])
        segments[i:i + 2] = [(segments[i][0], segments[i + 1][1])]
        del gaps[i]
    return segments, gaps


def _not_measured(status: str, why: str) -> dict[str, Any]:
    return {"status": status, "message": f"writing line: {why}; {FALLBACK}"}


def estimate_spacing(mask: np.ndarray, phrase: str, boxes: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Estimate the writer's spacing from the writing line's ink `mask` and their writing boxes.

    `boxes` maps written Hangul syllables to their writing-box glyph images (uint8, 255 paper); the median
    ink extent over all of them is the unit of the result, as in packaging. Returns the report entry:
    status "measured" with `gap` (two side bearings together) and `space`, or another status and a message.
    """
    syllables = [ch for ch in phrase if not ch.isspace()]
    space_at = len(phrase.split()[0]) - 1  # the gap after this syllable is the space
    if int(mask.sum()) < MIN_INK_PX:
        return _not_measured("not written", "nothing is written on it")
    extents = [max(b[2] - b[0], b[3] - b[1]) for b in map(_ink_box, boxes.values()) if b is not None]
    phrase_boxes = {ch: _ink_box(boxes[ch]) for ch in syllables if ch in boxes}
    heights = {ch: b[3] - b[1] for ch, b in phrase_boxes.items() if b is not None}
    if len(heights) < MIN_BOXES or not extents:
        return _not_measured("unreadable", "too few of its syllables were read in their boxes to size it")
    segments, gaps = _gaps(mask)
    found = len(gaps)
    segments, gaps = _merge_to(segments, gaps, len(syllables))
    widths = [b - a for a, b in gaps] + [0] * (len(syllables) - 1 - len(gaps))  # missing: touching
    widest = int(np.argmax(widths))
    if len(gaps) == len(syllables) - 1 and widest != space_at:
        return _not_measured("implausible", "its widest gap is not between the two words")
    rows = [np.flatnonzero(mask[:, a:b].any(axis=1)) for a, b in segments]
    line_heights = [int(r[-1] - r[0] + 1) for r in rows]
    if len(segments) == len(syllables):  # one segment per syllable: compare each with its own box
        ratios = [h / heights[ch] for h, ch in zip(line_heights, syllables, strict=True) if ch in heights]
        scale = median(ratios)
    else:
        scale = median(line_heights) / median(heights.values())
    unit = scale * median(extents)  # the median syllable extent at the line's size
    normal = [w for i, w in enumerate(widths) if i != widest]
    gap = median(normal) / unit
    space = (widths[widest] - median(normal)) / unit
    detail = {"syllables": len(syllables), "gaps_found": found, "scale": round(scale, 3)}
    in_range = PLAUSIBLE_GAP[0] <= gap <= PLAUSIBLE_GAP[1], PLAUSIBLE_SPACE[0] <= space <= PLAUSIBLE_SPACE[1]
    if not all(in_range):
        return {**_not_measured("implausible", f"gap {gap:.2f} and space {space:.2f} are not plausible"),
                **detail}
    gap = min(max(gap, GAP_RANGE[0]), GAP_RANGE[1])
    space = min(max(space, SPACE_RANGE[0]), SPACE_RANGE[1])
    return {"status": "measured", "gap": round(gap, 4), "space": round(space, 4), **detail,
            "message": f"writing line: syllables {gap:.2f} apart, a space {space:.2f} wide (of the median "
                       "syllable size); the fonts use this spacing"}


def spacing_from_image(strip: np.ndarray, phrase: str, boxes: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """`estimate_spacing` for a grayscale image of a written strip (uint8, 255 paper) without lighting."""
    return estimate_spacing(line_mask(255 - strip), phrase, boxes)
