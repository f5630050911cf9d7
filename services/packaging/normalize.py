"""Decides where each traced glyph sits in the font: its scale, offset and advance width in font units.

Hangul syllables get a fixed 1000-unit advance. One robust scale per image kind maps the median ink
extent to HANGUL_EXTENT; a glyph keeps the writer's size relative to that median, clamped into
HANGUL_SIZE_BAND; its ink is centred horizontally and on the line y = HANGUL_CENTRE_Y.

Latin letters, digits and punctuation sit on the baseline printed in the writing box
(`templates.layout.LATIN_BASELINE`). One scale per writer brings the median cap height to CAP_HEIGHT;
capitals and x-height letters that stray from their median are pulled back into LATIN_SIZE_BAND
(about the baseline); advances are the ink width plus side bearings.

    >>> placements, problems = place_hangul({0xAC00: traced_ga, 0xD55C: traced_han})
    >>> placements[0xAC00].apply(points)      # source pixels (y up) -> font units
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import median

import numpy as np

from models.glyph_space import ABSURD_SIZE, BLOT_INK_FRACTION
from services.packaging.trace import TracedGlyph
from templates.layout import LATIN_BASELINE, LATIN_XHEIGHT

UNITS_PER_EM = 1000
HANGUL_ADVANCE = 1000
HANGUL_EXTENT = 840  # font units for the median syllable's max(width, height)
HANGUL_CENTRE_Y = 360  # the median syllable spans -60..780: Latin caps (0..700) sit mid-line
# Size relative to the median is kept inside this band: simple syllables (이, 고) stay smaller than
# complex ones (뷁) but leave no holes in a line. A glyph scaled up to the band also gets thicker
# strokes, so the band is not narrower. 1.12 * 840 still fits the advance.
HANGUL_SIZE_BAND = (0.7, 1.12)
HANGUL_ABSURD = ABSURD_SIZE  # beyond these ratios a syllable is a generation failure, not style
CANONICAL_SIZE = 128  # generated glyphs: `models.glyph_space.SIZE`, scaled per writer already
MAX_INK_FRACTION = BLOT_INK_FRACTION  # ink over more than this share of the image is a blot

CAP_HEIGHT = 700
X_HEIGHT = 500  # used only when a writer gave no capitals and no digits
LATIN_SIZE_BAND = (0.85, 1.15)
LATIN_MAX_EXTENT = 2.2 * CAP_HEIGHT  # taller or wider than this is a mistake (a stroke across the box)
SIDE_BEARING = 60
MIN_ADVANCE = 200  # narrow marks (. , ' |) still get room around them
SPACE_ADVANCE = 300

CAPITALS = "ABDEFHIKLMNPRTUVWXZ"  # flat tops, no descender: a clean cap-height sample
X_LETTERS = "acemnorsuvwxz"  # no ascender, no descender
DIGITS = "0123456789"


@dataclass(frozen=True)
class Placement:
    """Where a glyph goes: font = source_pixels * scale + (dx, dy); `advance` in font units."""

    scale: float
    dx: float
    dy: float
    advance: int

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map an array of (..., 2) source-pixel points (y up) to font units."""
        return points * self.scale + np.array([self.dx, self.dy])


def is_hangul(codepoint: int) -> bool:
    """True for the 11,172 precomposed Hangul syllables (U+AC00..U+D7A3)."""
    return 0xAC00 <= codepoint <= 0xD7A3


def is_latin(codepoint: int) -> bool:
    """True for the 94 printable ASCII characters the template asks for (U+0021..U+007E)."""
    return 0x21 <= codepoint <= 0x7E


def _unusable(glyph: TracedGlyph) -> str | None:
    """Return why a traced glyph cannot be used at all, or None."""
    if glyph.bbox is None:
        return "no ink in the image"
    if not glyph.contours:
        return "the ink traced to no outline"
    if glyph.ink_fraction > MAX_INK_FRACTION:
        return f"ink covers {glyph.ink_fraction:.0%} of the image (a blot, not a glyph)"
    return None


def _split_usable(glyphs: Mapping[int, TracedGlyph]) -> tuple[dict[int, TracedGlyph], dict[int, str]]:
    """Return (usable glyphs, code point -> reason for each unusable one)."""
    usable: dict[int, TracedGlyph] = {}
    problems: dict[int, str] = {}
    for cp, glyph in glyphs.items():
        reason = _unusable(glyph)
        if reason:
            problems[cp] = reason
        else:
            usable[cp] = glyph
    return usable, problems


def _extent(glyph: TracedGlyph) -> float:
    """Return max(width, height) of the ink box as a fraction of the image's size."""
    assert glyph.bbox is not None
    x0, y0, x1, y1 = glyph.bbox
    return max(x1 - x0, y1 - y0) / max(glyph.width, glyph.height)


def place_hangul(glyphs: Mapping[int, TracedGlyph]) -> tuple[dict[int, Placement], dict[int, str]]:
    """Place Hangul syllables; return (placements, problems) keyed by code point.

    A glyph with a problem (no ink, a blot, an absurd size) gets a reason and no placement.
    """
    usable, problems = _split_usable(glyphs)
    # Generated (canonical) glyphs and written writing boxes were drawn at different scales: each
    # kind gets its own median so neither distorts the other.
    groups: dict[bool, list[int]] = {}
    for cp, glyph in usable.items():
        canonical = glyph.width == glyph.height == CANONICAL_SIZE
        groups.setdefault(canonical, []).append(cp)
    placements: dict[int, Placement] = {}
    for cps in groups.values():
        typical = median(_extent(usable[cp]) for cp in cps)
        for cp in cps:
            glyph = usable[cp]
            ratio = _extent(glyph) / typical
            if not HANGUL_ABSURD[0] <= ratio <= HANGUL_ABSURD[1]:
                problems[cp] = f"ink is {ratio:.2f} times the median syllable size"
                continue
            kept = min(max(ratio, HANGUL_SIZE_BAND[0]), HANGUL_SIZE_BAND[1])
            scale = HANGUL_EXTENT * kept / (ratio * typical * max(glyph.width, glyph.height))
            assert glyph.bbox is not None
            x0, y0, x1, y1 = glyph.bbox
            dx = HANGUL_ADVANCE / 2 - scale * (x0 + x1) / 2
            dy = HANGUL_CENTRE_Y - scale * (y0 + y1) / 2
            placements[cp] = Placement(scale, dx, dy, HANGUL_ADVANCE)
    return placements, problems


def _median_top(glyphs: Mapping[int, TracedGlyph], chars: str, baseline: float) -> float | None:
    """Median height above the baseline (fraction of box height) of the given characters, if any."""
    tops = []
    for ch in chars:
        glyph = glyphs.get(ord(ch))
        if glyph is not None and glyph.bbox is not None:
            top = glyph.bbox[3] / glyph.height - (1 - baseline)
            if top > 0:
                tops.append(top)
    return median(tops) if tops else None


def place_latin(
    glyphs: Mapping[int, TracedGlyph], *, baseline: float = LATIN_BASELINE
) -> tuple[dict[int, Placement], dict[int, str]]:
    """Place Latin writing-box glyphs on the font baseline; return (placements, problems) by code point.

    `baseline` is the printed baseline's distance from the box top as a fraction of its height.
    """
    if not 0 < baseline < 1:
        raise ValueError(f"the Latin baseline must lie inside the writing box (0..1), got {baseline}")
    usable, problems = _split_usable(glyphs)
    caps = _median_top(usable, CAPITALS, baseline)
    digits = _median_top(usable, DIGITS, baseline)
    xheight = _median_top(usable, X_LETTERS, baseline)
    # Font units per box height, from the best sample this writer gave us.
    if caps is not None:
        units = CAP_HEIGHT / caps
    elif digits is not None:
        units = CAP_HEIGHT / digits
    elif xheight is not None:
        units = X_HEIGHT / xheight
    else:  # punctuation only: trust the printed x-height guide
        units = X_HEIGHT / (baseline - LATIN_XHEIGHT)
    placements: dict[int, Placement] = {}
    for cp, glyph in usable.items():
        assert glyph.bbox is not None
        x0, y0, x1, y1 = glyph.bbox
        scale = units / glyph.height
        typical = caps if chr(cp) in CAPITALS else xheight if chr(cp) in X_LETTERS else None
        top = y1 / glyph.height - (1 - baseline)
        if typical is not None and top > 0:
            ratio = top / typical
            scale *= min(max(ratio, LATIN_SIZE_BAND[0]), LATIN_SIZE_BAND[1]) / ratio
        width, height = (x1 - x0) * scale, (y1 - y0) * scale
        if max(width, height) > LATIN_MAX_EXTENT:
            problems[cp] = f"ink is {max(width, height) / CAP_HEIGHT:.1f} times the cap height"
            continue
        advance = max(round(width + 2 * SIDE_BEARING), MIN_ADVANCE)
        dx = (advance - width) / 2 - x0 * scale
        dy = -(1 - baseline) * glyph.height * scale
        placements[cp] = Placement(scale, dx, dy, advance)
    return placements, problems
