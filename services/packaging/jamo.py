"""Cuts the 51 compatibility jamo (U+3131-U+3163: ㄱ..ㅎ, ㅏ..ㅣ) out of the writer's own syllables.

Each jamo comes from one simple syllable in which it stands apart: a consonant that can begin a syllable
from consonant + ㅣ (기 gives ㄱ: the ink left of the emptiest column), a final cluster from ㅇ+ㅏ+cluster
(앉 gives ㄵ: the ink below the emptiest row), a vowel from ㅇ + vowel (아 gives ㅏ: right of the cut;
오 gives ㅗ: below it; 와 gives ㅘ: everything but the top-left corner that holds the ㅇ). The images are
the syllables' (generated or written), so the jamo carry the writer's pen; they are sized with
`jamo_extent` and placed on the Hangul line.

    >>> cuts = cut_jamo(lambda cp: images.get(cp))     # {0x314B: (image of ㅋ, 0xD0A4 키, "left"), ...}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import cv2
import numpy as np

from models import hangul
from models.glyph_space import ink_mask
from services.packaging.normalize import (
    HANGUL_CENTRE_Y,
    HANGUL_EXTENT,
    HANGUL_MIN_ADVANCE,
    HANGUL_SIDE_BEARING,
    Placement,
)
from services.packaging.trace import TracedGlyph

FIRST_JAMO, LAST_JAMO = 0x3131, 0x3163
JAMO = tuple(range(FIRST_JAMO, LAST_JAMO + 1))
CONSONANTS = "ㄱㄲㄳㄴㄵㄶㄷㄸㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅃㅄㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWEL_I, VOWEL_A, IEUNG = hangul.MEDIALS.index("ㅣ"), hangul.MEDIALS.index("ㅏ"), hangul.INITIALS.index("ㅇ")
# Max(width, height) of a standalone jamo as a share of the median syllable's (Nanum Pen Script / Nanum
# Brush Script: consonants 0.39-0.57, vowels 0.52-0.66 of the syllable height).
CONSONANT_EXTENT, VOWEL_EXTENT = 0.55, 0.65
# Where in the ink box a cut is looked for: ㅣ after a consonant is narrow; ㅐ, ㅔ after ㅇ have two bars.
KEPT_SHARE = (0.1, 0.92)  # a clean cut keeps a part of the syllable's ink, not none or all of it
WHOLE_STROKE = 0.8  # a stroke with this share of its ink on one side of the cut goes wholly there
CUT_SPAN = {"left": (0.4, 0.85), "right": (0.2, 0.6), "row": (0.3, 0.75)}


def is_jamo(codepoint: int) -> bool:
    """True for the 51 compatibility jamo U+3131..U+3163."""
    return FIRST_JAMO <= codepoint <= LAST_JAMO


def source_syllables(jamo_cp: int) -> list[tuple[int, str]]:
    """Return the syllables to cut a jamo from, best first, each with the part to keep.

    The part is 'left', 'right', 'below' or 'corner'. A later syllable is tried when the earlier one is
    missing or its strokes touch so that no clean cut exists.
    """
    ch = chr(jamo_cp)
    if ch in hangul.INITIALS:
        initial = hangul.INITIALS.index(ch)
        return [(hangul.compose(initial, v), "left") for v in (VOWEL_I, VOWEL_A)]
    if ch in CONSONANTS:  # a cluster that only ends syllables
        final = hangul.FINALS.index(ch)
        return [(hangul.compose(IEUNG, v, final), "below") for v in (VOWEL_A, VOWEL_I)]
    medial = hangul.MEDIALS.index(ch)
    part = "right" if medial in hangul.VERTICAL_MEDIALS else "below"
    if medial in hangul.COMPOUND_MEDIALS:
        part = "corner"
    return [(hangul.compose(hangul.INITIALS.index(c), medial), part) for c in "ㅇㄴㅁ"]


def _cut(profile: np.ndarray, start: int, stop: int, span: tuple[float, float]) -> int:
    """Return the index of the emptiest line (least ink) within `span` of the ink range start..stop."""
    lo = start + int(span[0] * (stop - start))
    hi = max(start + int(span[1] * (stop - start)), lo + 1)
    return lo + int(np.argmin(profile[lo:hi]))


def cut_part(image: np.ndarray, part: str) -> np.ndarray | None:
    """Return a copy of the syllable image keeping only `part` of its ink (paper elsewhere), or None."""
    mask = ink_mask(image)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    keep = np.zeros_like(mask)
    if part == "left":  # a consonant before ㅣ
        column = _cut(mask[top:bottom].sum(axis=0), left, right, CUT_SPAN["left"])
        keep[:, :column] = True
    elif part == "right":
        column = _cut(mask[top:bottom].sum(axis=0), left, right, CUT_SPAN["right"])
        keep[:, column:] = True
    elif part == "below":
        row = _cut(mask[:, left:right].sum(axis=1), top, bottom, CUT_SPAN["row"])
        keep[row:, :] = True
    else:  # corner: drop the top-left block that holds the ㅇ
        column = _cut(mask[top : (top + bottom) // 2].sum(axis=0), left, right, CUT_SPAN["right"])
        row = _cut(mask[:, left:column].sum(axis=1), top, bottom, CUT_SPAN["row"])
        keep[:, :] = True
        keep[:row, :column] = False
    keep = _whole_strokes(mask, keep)
    share = float((mask & keep).sum()) / float(mask.sum())
    if not KEPT_SHARE[0] <= share <= KEPT_SHARE[1]:
        return None  # the cut took (nearly) nothing or (nearly) everything: the strokes touch
    return np.where(keep, image, 255).astype(np.uint8)


def _whole_strokes(mask: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Move the cut to stroke boundaries: a stroke mostly on one side goes wholly to that side.

    Strokes that the cut splits more evenly (a ㅇ touching its vowel) stay cut where the line fell.
    """
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    ring = np.ones((3, 3), np.uint8)
    result = np.zeros_like(keep)
    for label in range(1, count):
        stroke = labels == label
        share = float((stroke & keep).sum()) / float(stroke.sum())
        region = cv2.dilate(stroke.astype(np.uint8), ring).astype(bool)  # with its anti-aliased fringe
        if share >= WHOLE_STROKE:
            result |= region
        elif share > 1 - WHOLE_STROKE:
            result |= region & keep
    return result


def cut_jamo(load: Callable[[int], np.ndarray | None]) -> dict[int, tuple[np.ndarray, int, str]]:
    """Return {jamo: (image, syllable it was cut from, part kept)} for every jamo cut cleanly.

    `load(syllable)` returns the syllable's image, or None when there is none. The first source
    syllable (`source_syllables`) that gives a clean cut is used.
    """
    cuts: dict[int, tuple[np.ndarray, int, str]] = {}
    for cp in JAMO:
        for syllable, part in source_syllables(cp):
            image = load(syllable)
            piece = None if image is None else cut_part(image, part)
            if piece is not None:
                cuts[cp] = (piece, syllable, part)
                break
    return cuts


def jamo_extent(codepoint: int) -> float:
    """Return the jamo's max(width, height) as a share of the median syllable's."""
    return CONSONANT_EXTENT if chr(codepoint) in CONSONANTS else VOWEL_EXTENT


def place_jamo(traced: Mapping[int, TracedGlyph]) -> dict[int, Placement]:
    """Place cut jamo like syllables: their own size share of HANGUL_EXTENT, centred on the Hangul line."""
    placements: dict[int, Placement] = {}
    for cp, glyph in traced.items():
        if glyph.is_empty or glyph.bbox is None:
            continue
        x0, y0, x1, y1 = glyph.bbox
        scale = jamo_extent(cp) * HANGUL_EXTENT / max(x1 - x0, y1 - y0)
        advance = max(round((x1 - x0) * scale + 2 * HANGUL_SIDE_BEARING), HANGUL_MIN_ADVANCE)
        dx = (advance - (x1 - x0) * scale) / 2 - scale * x0
        dy = HANGUL_CENTRE_Y - scale * (y0 + y1) / 2
        placements[cp] = Placement(scale, dx, dy, advance)
    return placements
