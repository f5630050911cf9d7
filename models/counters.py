"""Closed counters: does a drawn syllable keep the holes of its ㅇ and ㅎ, or are they filled into dots?

Every hand closes the circle of ㅇ and of ㅎ, so a syllable drawn with fewer enclosed holes than its ㅇ
and ㅎ need has had a counter filled in: the small ㅇ of 앵 drawn as a dot, 않 as a blot. Ink-overlap
scores barely notice it (a dot overlaps a ring); a reader does.

    >>> short_of_holes(images, codepoints)   # share of the syllables with a ㅇ or ㅎ that lost a hole
    >>> enclosed_paper(ink)                   # where the paper inside each glyph's counters lies
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from models import glyph_space, hangul

ROUND_INITIALS = frozenset("ㅇㅎ")
ROUND_FINALS = frozenset("ㅇㅎㄶㅀ")  # finals whose written form holds a ㅇ or ㅎ
MIN_HOLE_AREA = 3  # pixels at 128 px: a smaller gap is a pinhole the tracer and the eye both lose


def expected_holes(codepoint: int) -> int:
    """How many holes the syllable's ㅇ and ㅎ enclose (one each), whatever the hand."""
    initial, _, final = hangul.decompose(codepoint)
    return int(hangul.INITIALS[initial] in ROUND_INITIALS) + int(hangul.FINALS[final] in ROUND_FINALS)


def holes(image: np.ndarray) -> int:
    """Count the paper regions of at least MIN_HOLE_AREA pixels that the glyph's ink encloses."""
    ink = glyph_space.ink_mask(image).astype(np.uint8)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return 0
    inner = [c for c, h in zip(contours, hierarchy[0], strict=True) if h[3] >= 0]
    return sum(1 for c in inner if cv2.contourArea(c) >= MIN_HOLE_AREA)


def short_of_holes(images: Sequence[np.ndarray] | np.ndarray, codepoints: Sequence[int]) -> float:
    """Share of the syllables with a ㅇ or ㅎ whose drawing encloses fewer holes than they need (0 if none
    of `codepoints` has one)."""
    pairs = [(im, cp) for im, cp in zip(images, codepoints, strict=True) if expected_holes(cp)]
    if not pairs:
        return 0.0
    return sum(holes(im) < expected_holes(cp) for im, cp in pairs) / len(pairs)


def enclosed_paper(ink: np.ndarray) -> np.ndarray:
    """For (N, S, S) ink masks, return (N, S, S) masks of the paper the ink encloses: the inside of every
    counter (the ring of ㅇ, the box of ㅁ), any size, but not the open paper around the glyph."""
    enclosed = np.zeros(ink.shape, dtype=bool)
    for i, mask in enumerate(np.asarray(ink, dtype=bool)):
        outside = np.pad(mask.astype(np.uint8), 1)  # a paper border joins all the open paper into one region
        cv2.floodFill(outside, None, (0, 0), 2)
        enclosed[i] = outside[1:-1, 1:-1] == 0
    return enclosed
