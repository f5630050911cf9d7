"""Places every glyph of the font: the writer's Hangul and Latin, the jamo cut from the syllables, simple
marks drawn for missing indispensable characters, and the alternates that `calt` cycles through.

`normalize` decides where one kind of glyph goes; this module ties the kinds together: Latin sized against
the Hangul as written, the pen width and cap height for the drawn marks, and alternates placed at the
size and on the line of the glyph they vary.

    >>> placements, broken = place_written(traced, written, hangul_box_scale)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import numpy as np

from services.packaging.jamo import cut_jamo, cut_part, place_jamo
from services.packaging.marks import DRAWABLE, draw_marks
from services.packaging.metrics import pen_width
from services.packaging.normalize import (
    CAP_HEIGHT,
    CAPITALS,
    DIGITS,
    Placement,
    Spacing,
    hangul_units,
    is_hangul,
    is_latin,
    place_hangul,
    place_latin,
)
from services.packaging.trace import TracedGlyph, trace_glyph

ImageLoader = Callable[[Path], np.ndarray]


def place_written(
    traced: dict[int, TracedGlyph],
    written: Collection[int] | None,
    hangul_box_scale: float | None,
    spacing: Spacing | None = None,
) -> tuple[dict[int, Placement], dict[int, str]]:
    """Place Hangul and Latin; Latin is sized against the Hangul as written when the box scale is known.
    `spacing` is the writer's measured Hangul spacing, if any."""
    hangul = {cp: g for cp, g in traced.items() if is_hangul(cp)}
    placements, broken = place_hangul(hangul, written=written, spacing=spacing)
    units = hangul_units(hangul, written)
    latin_units = units.get(False)  # Hangul writing boxes: the same pixels as the Latin boxes
    if latin_units is None and True in units and hangul_box_scale:
        latin_units = units[True] * hangul_box_scale  # canonical px per box px -> font units per box px
    placed, problems = place_latin(
        {cp: g for cp, g in traced.items() if is_latin(cp)}, units_per_px=latin_units
    )
    placements.update(placed)
    broken.update(problems)
    return placements, broken


def place_cut_jamo(
    images: Mapping[int, Path], load: ImageLoader
) -> tuple[dict[int, TracedGlyph], dict[int, Placement], dict[int, tuple[int, str]]]:
    """Cut, trace and place the compatibility jamo; return (traced, placements, jamo -> (syllable, part))."""

    def syllable(cp: int) -> np.ndarray | None:
        path = images.get(cp)
        try:
            return load(path) if path is not None else None
        except ValueError:
            return None

    cuts = cut_jamo(syllable)
    traced = {cp: trace_glyph(image) for cp, (image, _, _) in cuts.items()}
    return traced, place_jamo(traced), {cp: (source, part) for cp, (_, source, part) in cuts.items()}


def drawn_marks(
    traced: dict[int, TracedGlyph], placements: dict[int, Placement]
) -> dict[int, tuple[TracedGlyph, Placement]]:
    """Draw the indispensable characters the writer's glyphs lack, with the writer's pen and cap height."""
    wanted = sorted(ch for ch in DRAWABLE if ord(ch) not in placements)
    if not wanted:
        return {}
    latin = [cp for cp in placements if is_latin(cp)]
    sample = latin or sorted(cp for cp in placements if is_hangul(cp))[:200]
    pens = [p * placements[cp].scale for cp in sample if (p := pen_width([traced[cp]]))]
    if not pens:
        return {}  # nothing written to measure a pen on: the build fails later for want of Hangul
    return draw_marks(wanted, pen=float(np.median(pens)), cap=cap_height(traced, placements))


def cap_height(traced: dict[int, TracedGlyph], placements: dict[int, Placement]) -> float:
    """Return the median top (font units) of the placed capitals and digits, else CAP_HEIGHT."""
    tops = [
        placements[cp].apply(np.array(traced[cp].bbox[2:]))[1]  # type: ignore[index]
        for cp in placements
        if is_latin(cp) and chr(cp) in CAPITALS + DIGITS
    ]
    return float(np.median(tops)) if tops else CAP_HEIGHT


def font_notes(drawn: Collection[int]) -> str:
    """Return the font's description: what made it, and which characters were drawn, not written."""
    notes = "Handwriting font made with geulssi."
    if drawn:
        chars = " ".join(chr(cp) for cp in sorted(drawn))
        notes += (
            f" Not written by hand, drawn as simple marks with the writer's pen width: {chars}."
            f" 손글씨가 없어 펜 굵기로 단순하게 그린 글자: {chars}."
        )
    return notes


def _same_place(base: TracedGlyph, placement: Placement, alternate: TracedGlyph) -> Placement:
    """Place an alternate where its base glyph sits: same ink extent, same ink centre, same side bearings."""
    bx0, by0, bx1, by1 = base.bbox  # type: ignore[misc]
    ax0, ay0, ax1, ay1 = alternate.bbox  # type: ignore[misc]
    scale = placement.scale * max(bx1 - bx0, by1 - by0) / max(ax1 - ax0, ay1 - ay0)
    bearings = placement.advance - (bx1 - bx0) * placement.scale
    advance = round((ax1 - ax0) * scale + bearings)
    dx = (advance - (ax1 - ax0) * scale) / 2 - scale * ax0
    centre_y = placement.dy + placement.scale * (by0 + by1) / 2
    return Placement(scale, dx, centre_y - scale * (ay0 + ay1) / 2, advance)


def place_alternates(
    alternates: Mapping[int, list[Path]],
    traced: Mapping[int, TracedGlyph],
    placements: Mapping[int, Placement],
    jamo_sources: Mapping[int, tuple[int, str]],
    load: ImageLoader,
) -> dict[tuple[int, int], tuple[TracedGlyph, Placement]]:
    """Trace and place alternates: {(code point, k): (traced, placement)}, k from 1.

    Only code points whose base glyph was placed get alternates; a jamo gets the alternates cut from
    the alternates of the syllable it was cut from (`jamo_sources`: jamo -> (syllable, part)).
    """
    images: dict[tuple[int, int], np.ndarray] = {}
    for cp, paths in alternates.items():
        for k, path in enumerate(paths, 1):
            try:
                images[cp, k] = load(path)
            except ValueError:
                continue
    for jamo, (syllable, part) in jamo_sources.items():
        for k in range(1, len(alternates.get(syllable, [])) + 1):
            piece = cut_part(images[syllable, k], part) if (syllable, k) in images else None
            if piece is not None:
                images[jamo, k] = piece
    placed: dict[tuple[int, int], tuple[TracedGlyph, Placement]] = {}
    for (cp, k), image in sorted(images.items()):
        if cp not in placements or (k > 1 and (cp, k - 1) not in placed):
            continue  # alternates count from 1 without gaps: the cycle needs every step
        glyph = trace_glyph(image)
        if not glyph.is_empty:
            placed[cp, k] = (glyph, _same_place(traced[cp], placements[cp], glyph))
    return placed
