"""Pair kerning computed from the outlines, written as OpenType feature code for GPOS `kern`.

Each glyph's outline is cut into horizontal bands (BAND units tall); per band we keep the leftmost and
rightmost ink. For a pair L R the gap is the smallest horizontal distance between L's right edge and R's
left edge over bands that face each other (a band and its neighbours). A pair that sits further apart
than the usual gap (the side bearings of an upright stem, `gap`) is pulled in by half the difference
(AV, To, L'), one that nearly touches is pushed out; changes under MIN_KERN units are dropped. Pairs:
every Latin letter, digit and punctuation mark with each other, and with the Hangul syllables as one
class (its profile: the median Hangul edge per band).

    >>> fea = kern_feature(glyphs, gap=84)      # "@hangul = [...]; feature kern { pos T o -40; ... }"
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from fontTools.ttLib.tables._g_l_y_f import Glyph

from services.packaging.font_tables import glyph_name

BAND = 50  # font units per band
BANDS = np.arange(-300, 1100, BAND)  # band bottoms, from below the descender to above the ascender
STRENGTH = 0.5  # the share of the extra gap that is taken away
MAX_KERN = 0.3  # of the usual gap x 4: no pair moves more than 1.2 usual gaps (see `kern_value`)
MIN_KERN = 10
SAMPLES = 6  # points per outline segment, so long straight strokes fill every band they cross
Profile = tuple[np.ndarray, np.ndarray]  # (left edge, right edge distance from the advance) per band


def profile(glyph: Glyph, advance: int) -> Profile | None:
    """Return (left ink x, advance - right ink x) per band, NaN where the band holds no ink; None if empty."""
    if glyph.numberOfContours <= 0:
        return None
    coords = np.asarray(glyph.coordinates, dtype=float)
    points = []
    start = 0
    for end in glyph.endPtsOfContours:
        contour = coords[start : end + 1]
        nxt = np.roll(contour, -1, axis=0)
        for t in np.linspace(0, 1, SAMPLES, endpoint=False):
            points.append(contour + t * (nxt - contour))
        start = end + 1
    pts = np.concatenate(points)
    band = np.searchsorted(BANDS, pts[:, 1], side="right") - 1
    inside = (band >= 0) & (band < len(BANDS))
    left = np.full(len(BANDS), np.nan)
    right = np.full(len(BANDS), np.nan)
    for b in np.unique(band[inside]):
        xs = pts[inside & (band == b), 0]
        left[b], right[b] = xs.min(), advance - xs.max()
    return left, right


def pair_gap(first: Profile, second: Profile) -> float:
    """Return the smallest distance between `first`'s right ink and `second`'s left ink, set side by side."""
    right, left = first[1], second[0]
    best = np.inf
    for shift in (-1, 0, 1):  # a band faces its neighbours too: strokes are not horizontal slabs
        a = right[max(shift, 0) : len(right) + min(shift, 0)]
        b = left[max(-shift, 0) : len(left) + min(-shift, 0)]
        gaps = a + b
        if np.any(~np.isnan(gaps)):
            best = min(best, float(np.nanmin(gaps)))
    return best


def kern_value(gap_found: float, gap: float) -> int:
    """Return the kerning (font units, negative tightens) that brings `gap_found` towards `gap`."""
    if not np.isfinite(gap_found):
        return 0  # nothing faces anything (a comma under a quote): leave the pair alone
    change = STRENGTH * (gap - gap_found)
    if gap_found < gap / 2:  # nearly touching: push apart to half the usual gap at least
        change = gap / 2 - gap_found
    limit = 4 * MAX_KERN * gap
    value = round(min(max(change, -limit), limit))
    return value if abs(value) >= MIN_KERN else 0


def _hangul_profile(profiles: Mapping[int, Profile]) -> Profile | None:
    """Return the median left and right edge per band over the Hangul syllables."""
    hangul = [p for cp, p in profiles.items() if 0xAC00 <= cp <= 0xD7A3]
    if not hangul:
        return None
    with warnings.catch_warnings():  # bands no syllable reaches are all-NaN: they stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        left = np.nanmedian(np.stack([p[0] for p in hangul]), axis=0)
        right = np.nanmedian(np.stack([p[1] for p in hangul]), axis=0)
    return left, right


def kern_pairs(glyphs: Mapping[int, tuple[Glyph, int]], gap: float) -> dict[tuple[int, int], int]:
    """Return {(first, second): kerning} for Latin pairs and Latin-Hangul pairs (Hangul as 0xAC00)."""
    profiles = {cp: p for cp, (g, adv) in glyphs.items() if (p := profile(g, adv)) is not None}
    latin = sorted(cp for cp in profiles if 0x21 <= cp <= 0x7E)
    pairs: dict[tuple[int, int], int] = {}
    for a in latin:
        for b in latin:
            value = kern_value(pair_gap(profiles[a], profiles[b]), gap)
            if value:
                pairs[a, b] = value
    hangul = _hangul_profile(profiles)
    if hangul is not None:
        for cp in latin:
            for pair, first, second in (
                ((0xAC00, cp), hangul, profiles[cp]),
                ((cp, 0xAC00), profiles[cp], hangul),
            ):
                value = kern_value(pair_gap(first, second), gap)
                if value:
                    pairs[pair] = value
    return pairs


def kern_feature(glyphs: Mapping[int, tuple[Glyph, int]], gap: float, also: Sequence[str] = ()) -> str:
    """Return feature code for GPOS `kern` (empty when no pair needs kerning).

    `also` names more glyphs of the Hangul class (alternates of syllables).
    """
    pairs = kern_pairs(glyphs, gap)
    if not pairs:
        return ""
    hangul = " ".join([*(glyph_name(cp) for cp in sorted(glyphs) if 0xAC00 <= cp <= 0xD7A3), *sorted(also)])

    def name(cp: int) -> str:
        return "@hangul" if cp == 0xAC00 else glyph_name(cp)

    lines = []
    if hangul:
        lines.append(f"@hangul = [{hangul}];")
    lines.append("feature kern {")
    glyph_pairs = [(a, b, v) for (a, b), v in sorted(pairs.items()) if 0xAC00 not in (a, b)]
    class_pairs = [(a, b, v) for (a, b), v in sorted(pairs.items()) if 0xAC00 in (a, b)]
    lines += [f"    pos {name(a)} {name(b)} {v};" for a, b, v in glyph_pairs]
    lines += ["    subtable;"] if glyph_pairs and class_pairs else []
    lines += [f"    pos {name(a)} {name(b)} {v};" for a, b, v in class_pairs]
    lines.append("} kern;")
    return "\n".join(lines) + "\n"
