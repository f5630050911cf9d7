"""The shared glyph normalization: any glyph image (font render or handwriting box) -> canonical 128x128.

Canonical space: white (255) background, dark ink, ink centred by its bounding box, and one scale per
writer or font chosen so that the *median* glyph extent becomes ``TARGET_EXTENT`` pixels. Because the
scale is shared by the whole glyph set, a simple syllable (이) stays smaller than a complex one (뷁).

    >>> scale = writer_scale(images)          # once per writer / font
    >>> canon = to_canonical(images[0], scale) # 128x128 uint8
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import cv2
import numpy as np

from models import hangul

SIZE = 128
TARGET_EXTENT = 96.0  # median ink extent (max of bbox width/height) after scaling
MAX_EXTENT = SIZE - 8  # no glyph may come closer than 4 px to the canvas edge
INK_THRESHOLD = 160  # darker than this counts as ink (paper is ~255, pen strokes well below)
SPECK_FRACTION = 0.01  # components smaller than 1% of the glyph's ink ...
SPECK_MAX_PIXELS = 0.0015  # ... and smaller than 0.15% of the image area are specks
# Sanity limits for a syllable, shared by generation repair and font packaging: ink over more than
# BLOT_INK_FRACTION of the image is a blot; an ink extent outside ABSURD_SIZE times the median
# syllable's is a generation failure, not style.
BLOT_INK_FRACTION = 0.6
EDGE_LEVEL = 128  # outlines follow this grey level: fainter ink is seen, but never traced
ABSURD_SIZE = (0.3, 2.5)


def _as_gray(image: np.ndarray) -> np.ndarray:
    """Return a 2-D uint8 view of `image`, raising ValueError for anything else."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = cv2.cvtColor(array[:, :, :3], cv2.COLOR_RGB2GRAY)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"a glyph image must be a 2-D grayscale array, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def ink_mask(image: np.ndarray) -> np.ndarray:
    """Return a boolean mask of the glyph's ink with small isolated specks removed."""
    gray = _as_gray(image)
    binary = (gray < INK_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return binary.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    # A speck is small both relative to this glyph's ink and to the image; real strokes (the
    # short tick of ㅏ, the dot-like top of ㅎ) are comfortably above both limits.
    limit = min(SPECK_FRACTION * areas.sum(), SPECK_MAX_PIXELS * gray.size)
    keep = np.concatenate([[False], areas >= max(limit, 1)])
    if not keep.any():
        keep[1 + int(np.argmax(areas))] = True
    return keep[labels]


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Return the bounding box (x0, y0, x1, y1), exclusive ends, of a boolean mask; None if it is empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def mask_extent(mask: np.ndarray) -> float:
    """Return max(width, height) of a boolean mask's bounding box in pixels (0.0 when it is empty)."""
    box = mask_bbox(mask)
    return 0.0 if box is None else float(max(box[2] - box[0], box[3] - box[1]))


def ink_bbox(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """Return the ink bounding box (x0, y0, x1, y1), exclusive ends, ignoring specks; None if blank."""
    return mask_bbox(ink_mask(image))


def ink_extent(image: np.ndarray) -> float:
    """Return max(width, height) of the ink bounding box in pixels (0.0 for a blank image)."""
    return mask_extent(ink_mask(image))


def inked_syllables(glyphs: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The Hangul syllables among `glyphs` (code point -> image) that hold ink: a blank box is no glyph."""
    return {cp: im for cp, im in glyphs.items() if hangul.is_syllable(cp) and ink_bbox(im) is not None}


def writer_scale(images: Iterable[np.ndarray]) -> float:
    """Return the one scale factor for a writer's or font's glyph set.

    The median extent maps to TARGET_EXTENT; the scale is then lowered if needed so that the largest
    glyph still fits in MAX_EXTENT. Raises ValueError if no image has ink.
    """
    extents = np.array([e for e in (ink_extent(im) for im in images) if e > 0])
    if extents.size == 0:
        raise ValueError("none of the glyph images contains ink")
    return float(min(TARGET_EXTENT / np.median(extents), MAX_EXTENT / extents.max()))


def to_canonical(image: np.ndarray, scale: float) -> np.ndarray:
    """Return `image` as a canonical 128x128 uint8 glyph: specks removed, scaled by `scale`, centred.

    A glyph that would still overflow (an outlier in its set) is shrunk just enough to fit.
    A blank image gives a blank canvas.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    gray = _as_gray(image)
    canvas = np.full((SIZE, SIZE), 255, np.uint8)
    mask = ink_mask(gray)
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return canvas
    xs = np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    # Keep the anti-aliased edge pixels around kept strokes but drop specks entirely.
    halo = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    crop = np.where(halo, gray, 255)[y0:y1, x0:x1]
    h, w = crop.shape
    s = min(scale, MAX_EXTENT / max(h, w))
    new_w, new_h = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(crop, (new_w, new_h), interpolation=interp)
    top, left = (SIZE - new_h) // 2, (SIZE - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


# Generated glyphs are nearly black and white, so moving the threshold alone would not move their edges.
# Softened by this blur (pixels), an edge becomes a ramp a few pixels wide and a level between 0 and 255
# puts it anywhere on that ramp: strokes get thinner or heavier by up to ~2 px per side.
WEIGHT_BLUR = 1.5
# Only this share of the measured difference is corrected: thinning generated strokes all the way to a
# thin writer's weight breaks their faint joins (Gaegu Light: OCR error 0.83 -> 1.73), half of it keeps them.
WEIGHT_STRENGTH = 0.5
# Beyond this range the drawn glyphs are nothing like the written ones; clamped so that a bad fine-tune
# cannot turn its glyphs into blots or erase them.
LEVEL_RANGE = (24.0, 232.0)


def soften(images: np.ndarray) -> np.ndarray:
    """Blur each glyph of an (N, S, S) uint8 stack by WEIGHT_BLUR pixels."""
    return np.stack([cv2.GaussianBlur(im, (0, 0), WEIGHT_BLUR) for im in images])


def matching_level(drawn: np.ndarray, written: np.ndarray) -> float:
    """Return the grey level at which softened `drawn` glyphs cover as much ink as `written` ones do at
    EDGE_LEVEL. Both are (N, S, S) uint8 stacks of the same characters; `reweigh` uses the level.
    """
    share = float(np.mean(written < EDGE_LEVEL))
    full = float(np.quantile(soften(drawn), share)) + 0.5
    level = EDGE_LEVEL + WEIGHT_STRENGTH * (full - EDGE_LEVEL)
    return min(max(level, LEVEL_RANGE[0]), LEVEL_RANGE[1])


def reweigh(images: np.ndarray, level: float) -> np.ndarray:
    """Give an (N, S, S) uint8 stack the stroke weight `matching_level` measured: soften it, then map grey
    `level` to EDGE_LEVEL (0 and 255 stay put, piecewise linear). A level below EDGE_LEVEL thins strokes,
    above it thickens them."""
    lut = np.round(np.interp(np.arange(256), [0.0, level, 255.0], [0.0, EDGE_LEVEL, 255.0])).astype(np.uint8)
    return np.stack([cv2.LUT(im, lut) for im in soften(images)])
