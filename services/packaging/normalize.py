"""Decides where each traced glyph sits in the font: its scale, offset and advance width in font units.

Hangul syllables are proportional, like the Nanum handwriting fonts: the advance is the ink width plus a
side bearing on each side. The side bearings and the space come from the writer's own running text when
their writing line was measured (`Spacing`, from extraction's report), else from DEFAULT_SPACING.
One robust scale per image kind maps the median *written* syllable's
ink extent to HANGUL_EXTENT; each syllable keeps the writer's size relative to that median (generated
syllables are compared with written ones of the same vowel and final, `metrics.size_model`), and only
true outliers are pulled in. The ink is centred on the line y = HANGUL_CENTRE_Y.

Latin letters, digits and punctuation sit on the baseline printed in the writing box
(`templates.layout.LATIN_BASELINE`). They are sized against the Hangul as written when the pixel scale
of the writing boxes is known (`latin_units`), else the median cap height becomes CAP_HEIGHT. Each class
(capitals, x-height letters, ascenders, digits) keeps its own measured height; a letter that strays from
its class median is pulled back into LATIN_SIZE_BAND (about the baseline); advances are the ink width
plus side bearings in proportion to the cap height.

    >>> placements, problems = place_hangul({0xAC00: traced_ga, 0xD55C: traced_han})
    >>> placements[0xAC00].apply(points)      # source pixels (y up) -> font units
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from statistics import median

import numpy as np

from models.glyph_space import ABSURD_SIZE, BLOT_INK_FRACTION
from services.packaging.metrics import size_model
from services.packaging.trace import TracedGlyph
from templates.charset import HANGUL as TEMPLATE_HANGUL
from templates.layout import LATIN_BASELINE, LATIN_XHEIGHT

UNITS_PER_EM = 1000
# Measured on pretraining handwriting fonts (docs/QUALITY.md "Typesetting"): median syllable ink height
# ~0.8 em, ink centre at 0.41 of it above the baseline (Nanum Pen Script, Nanum Brush Script), cap height
# ~0.75 of it; over the 7 proportional handwriting faces of pretrain.tsv the median side bearings
# together are 0.074 of it and the median space 0.32 of it.
HANGUL_EXTENT = 800  # font units for the median written syllable's max(width, height)
HANGUL_CENTRE_Y = 330
HANGUL_SIDE_BEARING = 30  # each side: 0.037 x HANGUL_EXTENT
HANGUL_MIN_ADVANCE = 250
HANGUL_ABSURD = ABSURD_SIZE  # beyond these ratios a syllable is a generation failure, not style
CANONICAL_SIZE = 128  # generated glyphs: `models.glyph_space.SIZE`, scaled per writer already
MAX_INK_FRACTION = BLOT_INK_FRACTION  # ink over more than this share of the image is a blot
TEMPLATE_SYLLABLES = frozenset(ord(ch) for ch in TEMPLATE_HANGUL)

CAP_HEIGHT = 600  # when the Hangul gives no scale: 0.75 x HANGUL_EXTENT
X_HEIGHT = 430  # used only when a writer gave no capitals and no digits
# A letter may stray this far from its class's median height. Letters whose small and capital forms share
# one shape (o O, s S, v V, w W, x X, z Z, c C) are told apart by height alone: at +-15 % an 'o' written a
# little large and an 'O' a little small met (geulssi demo: "fOx jumPS OVer"); at +-8 % they stay apart
# for any hand whose x-height is under ~0.85 of its cap height.
LATIN_SIZE_BAND = (0.92, 1.08)
LATIN_MAX_EXTENT = 2.2  # cap heights: taller or wider than this is a mistake (a stroke across the box)
SIDE_BEARING = 0.07  # of the cap height, each side (Nanum Pen 0.065, Brush 0.05, Barunpen 0.09)
MIN_ADVANCE = 0.3  # of the cap height: narrow marks (. , ' |) still get room around them
SPACE_ADVANCE = 260  # 0.325 x HANGUL_EXTENT

CAPITALS = "ABDEFHIKLMNPRTUVWXZ"  # flat tops, no descender: a clean cap-height sample
X_LETTERS = "acemnorsuvwxz"  # no ascender, no descender
# Each class is pulled towards its own median top (x-height letters with descenders share the x-height).
# 't' is in none: hands and fonts draw it anywhere between the x-height and the ascenders, so it keeps
# its written height (pulled towards the ascenders it came out as tall as 'h').
LATIN_CLASSES = (CAPITALS + "CGJOQSY", X_LETTERS + "gpqy", "bdfhkl", "0123456789")
DIGITS = "0123456789"


@dataclass(frozen=True)
class Spacing:
    """A writer's spacing in running text, as shares of the median syllable ink extent (HANGUL_EXTENT)."""

    gap: float  # the side bearings of two neighbouring syllables together
    space: float  # the advance of a space

    @property
    def side_bearing(self) -> float:
        """Font units on each side of a syllable's ink."""
        return self.gap * HANGUL_EXTENT / 2

    @property
    def space_advance(self) -> int:
        """Font units of the space's advance."""
        return round(self.space * HANGUL_EXTENT)


# The pretraining median (see above): used when the writer's line was not written or not readable.
DEFAULT_SPACING = Spacing(2 * HANGUL_SIDE_BEARING / HANGUL_EXTENT, SPACE_ADVANCE / HANGUL_EXTENT)


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


def _written_set(cps: Collection[int], canonical: bool, written: Collection[int] | None) -> set[int]:
    """Return which of `cps` were written by hand: writing boxes always; canonical ones when listed."""
    if not canonical:
        return set(cps)
    listed = TEMPLATE_SYLLABLES if written is None else written
    return {cp for cp in cps if cp in listed}


def hangul_units(
    glyphs: Mapping[int, TracedGlyph], written: Collection[int] | None = None
) -> dict[bool, float]:
    """Return font units per source pixel for each image kind present (True: canonical, False: box).

    The median extent of the written syllables of a kind (all of them when fewer than 10 were written)
    becomes HANGUL_EXTENT.
    """
    usable, _ = _split_usable(glyphs)
    units: dict[bool, float] = {}
    for canonical, cps in _groups(usable).items():
        hand = _written_set(cps, canonical, written)
        basis = [cp for cp in cps if cp in hand] if len(hand) >= 10 else cps
        units[canonical] = HANGUL_EXTENT / median(_extent_px(usable[cp]) for cp in basis)
    return units


def _groups(usable: Mapping[int, TracedGlyph]) -> dict[bool, list[int]]:
    """Split code points by image kind: canonical (generated, 128 px) or writing box."""
    groups: dict[bool, list[int]] = {}
    for cp, glyph in usable.items():
        groups.setdefault(glyph.width == glyph.height == CANONICAL_SIZE, []).append(cp)
    return groups


def _extent_px(glyph: TracedGlyph) -> float:
    """Return max(width, height) of the ink box in source pixels."""
    assert glyph.bbox is not None
    x0, y0, x1, y1 = glyph.bbox
    return max(x1 - x0, y1 - y0)


def place_hangul(
    glyphs: Mapping[int, TracedGlyph],
    *,
    written: Collection[int] | None = None,
    spacing: Spacing | None = None,
) -> tuple[dict[int, Placement], dict[int, str]]:
    """Place Hangul syllables; return (placements, problems) keyed by code point.

    `spacing` is the writer's measured spacing (default: DEFAULT_SPACING).
    `written` lists the canonical (128 px) syllables that were written by hand rather than generated
    (default: the template's syllables); writing-box images always count as written. A glyph with a
    problem (no ink, a blot, an absurd size) gets a reason and no placement.
    """
    usable, problems = _split_usable(glyphs)
    units = hangul_units(usable, written)
    side = (spacing or DEFAULT_SPACING).side_bearing
    placements: dict[int, Placement] = {}
    # Generated (canonical) glyphs and written writing boxes were drawn at different scales: each
    # kind gets its own median so neither distorts the other.
    for canonical, cps in _groups(usable).items():
        typical = HANGUL_EXTENT / units[canonical]
        hand = _written_set(cps, canonical, written)
        ratios = {cp: _extent_px(usable[cp]) / typical for cp in cps}
        for cp, ratio in ratios.items():
            if not HANGUL_ABSURD[0] <= ratio <= HANGUL_ABSURD[1]:
                problems[cp] = f"ink is {ratio:.2f} times the median syllable size"
        sane = {cp: r for cp, r in ratios.items() if cp not in problems}
        model = size_model(
            {cp: r for cp, r in sane.items() if cp in hand},
            {cp: r for cp, r in sane.items() if cp not in hand},
        )
        for cp, ratio in sane.items():
            scale = units[canonical] * model.kept(ratio, written=cp in hand) / ratio
            x0, y0, x1, y1 = usable[cp].bbox  # type: ignore[misc]
            advance = max(round((x1 - x0) * scale + 2 * side), HANGUL_MIN_ADVANCE)
            dx = (advance - (x1 - x0) * scale) / 2 - scale * x0
            dy = HANGUL_CENTRE_Y - scale * (y0 + y1) / 2
            placements[cp] = Placement(scale, dx, dy, advance)
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
    glyphs: Mapping[int, TracedGlyph], *, baseline: float = LATIN_BASELINE, units_per_px: float | None = None
) -> tuple[dict[int, Placement], dict[int, str]]:
    """Place Latin writing-box glyphs on the font baseline; return (placements, problems) by code point.

    `baseline` is the printed baseline's distance from the box top as a fraction of its height.
    `units_per_px` (font units per writing-box pixel, from the writer's Hangul boxes) keeps Latin and
    Hangul at the sizes they were written; without it the median cap height becomes CAP_HEIGHT.
    """
    if not 0 < baseline < 1:
        raise ValueError(f"the Latin baseline must lie inside the writing box (0..1), got {baseline}")
    usable, problems = _split_usable(glyphs)
    caps = _median_top(usable, CAPITALS, baseline)
    digits = _median_top(usable, DIGITS, baseline)
    xheight = _median_top(usable, X_LETTERS, baseline)
    # Font units per box height, from the Hangul if we may, else from the best sample this writer gave.
    if units_per_px is not None and usable:
        units = units_per_px * median(g.height for g in usable.values())
    elif caps is not None:
        units = CAP_HEIGHT / caps
    elif digits is not None:
        units = CAP_HEIGHT / digits
    elif xheight is not None:
        units = X_HEIGHT / xheight
    else:  # punctuation only: trust the printed x-height guide
        units = X_HEIGHT / (baseline - LATIN_XHEIGHT)
    if caps or digits:
        cap_units = units * (caps or digits)  # type: ignore[operator]
    else:
        cap_units = units * xheight / 0.72 if xheight else CAP_HEIGHT  # a typical x-height : cap height
    side, narrowest = SIDE_BEARING * cap_units, MIN_ADVANCE * cap_units
    typical = {cls: _median_top(usable, cls, baseline) for cls in LATIN_CLASSES}
    placements: dict[int, Placement] = {}
    for cp, glyph in usable.items():
        assert glyph.bbox is not None
        x0, y0, x1, y1 = glyph.bbox
        scale = units / glyph.height
        cls = next((c for c in LATIN_CLASSES if chr(cp) in c), None)
        top = y1 / glyph.height - (1 - baseline)
        class_top = typical.get(cls) if cls else None
        if class_top is not None and top > 0:
            ratio = top / class_top
            scale *= min(max(ratio, LATIN_SIZE_BAND[0]), LATIN_SIZE_BAND[1]) / ratio
        width, height = (x1 - x0) * scale, (y1 - y0) * scale
        if max(width, height) > LATIN_MAX_EXTENT * cap_units:
            problems[cp] = f"ink is {max(width, height) / cap_units:.1f} times the cap height"
            continue
        advance = max(round(width + 2 * side), round(narrowest))
        dx = (advance - width) / 2 - x0 * scale
        dy = -(1 - baseline) * glyph.height * scale
        placements[cp] = Placement(scale, dx, dy, advance)
    return placements, problems
