"""Turns one glyph bitmap into smooth closed outlines (potrace curves) in source-pixel units.

The image is cleaned of specks (the same rule as `models.glyph_space`), cropped to its ink and upsampled
(bicubic; binarised input is also blurred) so potrace sees the sub-pixel edge rather than the pixel
staircase, then traced by libpotrace.
Coordinates come back in the source image's pixel units with **y pointing up from the image's bottom
edge** (font orientation): ink outlines clockwise, holes counter-clockwise, as TrueType wants them.

    >>> glyph = trace_glyph(np.asarray(Image.open("U+C548.png").convert("L")))
    >>> glyph.bbox, len(glyph.contours)      # ink box in pixels, outlines + holes
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.glyph_space import EDGE_LEVEL, ink_mask
from services.packaging.potrace_lib import CORNER, Curve, trace_mask

UPSCALE = 2  # potrace runs on a 2x (bicubic) bitmap: the anti-aliased edge gives sub-pixel detail;
# 3-4x add under 0.5 % ink IoU at 1.4-1.7x the time
EDGE_THRESHOLD = EDGE_LEVEL  # the outline follows the mid-grey level of the anti-aliased edge
HARD_EDGE_SHARE = 0.05  # fewer grey pixels than this (per ink pixel) means binarised input ...
BLUR_SIGMA = 0.5  # ... which is blurred by this many source pixels to iron out its staircase
MARGIN = 3  # source pixels kept around the ink so resizing and blurring see white paper
HOLE_MIN_AREA = 2.0  # source px^2: pinholes in the ink smaller than this are filled
ALPHAMAX = 1.0  # potrace's corner threshold (its default): pen strokes are mostly round
OPTTOLERANCE = 0.25  # source pixels of error allowed when potrace joins curve segments


@dataclass(frozen=True)
class TracedGlyph:
    """A traced glyph: `contours` in source pixels, y up from the bottom edge of a width x height image.

    `bbox` is the ink box (x0, y0, x1, y1) in the same units, None when the image holds no ink;
    `ink_fraction` is the share of the image's pixels that are ink.
    """

    width: int
    height: int
    bbox: tuple[float, float, float, float] | None
    contours: tuple[Curve, ...]
    ink_fraction: float

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to draw (no ink, or the ink traced to no outline)."""
        return self.bbox is None or not self.contours


def trace_glyph(image: np.ndarray, *, upscale: int = UPSCALE) -> TracedGlyph:
    """Trace a grayscale glyph image (2-D uint8, white paper, dark ink) into outlines.

    Specks are dropped, holes (the inside of ㅇ, ㅁ, ㅂ) are kept. An image without ink gives a
    TracedGlyph with `bbox` None and no contours; a non-2-D or non-uint8 array raises ValueError.
    """
    gray = np.asarray(image)
    if gray.ndim != 2 or gray.size == 0 or gray.dtype != np.uint8:
        raise ValueError(f"a glyph image must be a 2-D uint8 grayscale array, got {gray.dtype} {gray.shape}")
    if upscale < 1:
        raise ValueError(f"upscale must be at least 1, got {upscale}")
    height, width = gray.shape
    keep = ink_mask(gray)
    rows = np.flatnonzero(keep.any(axis=1))
    if rows.size == 0:
        return TracedGlyph(width, height, None, (), 0.0)
    cols = np.flatnonzero(keep.any(axis=0))
    y0, y1 = max(rows[0] - MARGIN, 0), min(rows[-1] + 1 + MARGIN, height)
    x0, x1 = max(cols[0] - MARGIN, 0), min(cols[-1] + 1 + MARGIN, width)
    # Paint specks white, but keep the anti-aliased fringe of the strokes we keep.
    halo = cv2.dilate(keep[y0:y1, x0:x1].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    crop: np.ndarray = np.where(halo, gray[y0:y1, x0:x1], 255).astype(np.uint8)
    # A white border makes the crop behave as if it continued into paper at the image edge.
    crop = cv2.copyMakeBorder(crop, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)
    big: np.ndarray = crop.astype(np.float32)
    if upscale > 1:
        big = cv2.resize(big, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
    grey = np.count_nonzero((crop > 32) & (crop < 224))
    if grey < HARD_EDGE_SHARE * np.count_nonzero(crop < EDGE_THRESHOLD):
        # Binarised input has no edge information between pixels: blur so potrace sees a slope.
        big = cv2.GaussianBlur(big, (0, 0), BLUR_SIGMA * upscale)
    mask = big < EDGE_THRESHOLD
    ink_rows = np.flatnonzero(mask.any(axis=1))
    if ink_rows.size == 0:
        return TracedGlyph(width, height, None, (), 0.0)
    ink_cols = np.flatnonzero(mask.any(axis=0))
    curves = trace_mask(
        mask,
        turdsize=int(HOLE_MIN_AREA * upscale * upscale),
        alphamax=ALPHAMAX,
        opttolerance=OPTTOLERANCE * upscale,
    )
    # Back to source pixels (the crop starts at x0 - 1, y0 - 1 because of the border), then flip y so
    # it points up from the image's bottom edge. potrace gives ink outlines a positive shoelace area in
    # its (x, row) frame; the flip makes it negative, i.e. clockwise with y up, and holes the opposite:
    # TrueType's convention.
    ox, oy = x0 - 1.0, y0 - 1.0
    contours = tuple(_to_y_up(c, upscale, ox, oy, height) for c in curves if len(c.tags))
    bbox = (
        float(ink_cols[0] / upscale + ox),
        float(height - ((ink_rows[-1] + 1) / upscale + oy)),
        float((ink_cols[-1] + 1) / upscale + ox),
        float(height - (ink_rows[0] / upscale + oy)),
    )
    return TracedGlyph(width, height, bbox, contours, float(keep.sum()) / keep.size)


def _to_y_up(curve: Curve, upscale: int, ox: float, oy: float, height: int) -> Curve:
    """Map a curve from upsampled crop pixels (y down) to source pixels with y up."""
    points = curve.points / upscale + np.array([ox, oy])
    points[..., 1] = height - points[..., 1]
    return Curve(curve.tags, points, curve.sign)


def contour_polygon(curve: Curve, steps: int = 8) -> np.ndarray:
    """Return a contour flattened to a polygon (each cubic sampled `steps` times), for measurements."""
    parts = []
    start = curve.points[-1, 2]
    t = np.linspace(0, 1, steps + 1)[1:, None]
    for tag, (c1, c2, end) in zip(curve.tags, curve.points, strict=True):
        if tag == CORNER:
            parts.append(np.stack([c2, end]))
        else:
            parts.append(
                (1 - t) ** 3 * start + 3 * t * (1 - t) ** 2 * c1 + 3 * t**2 * (1 - t) * c2 + t**3 * end
            )
        start = end
    return np.concatenate(parts)


def signed_area(curve: Curve) -> float:
    """Return a contour's area, negative when it runs clockwise in y-up space (an ink outline)."""
    p = contour_polygon(curve)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
