"""A font's true spacing, in the units the writing line is read in, and the table checking the reading.

The unit is the median ink extent, max(width, height), of the font's template syllables, as `normalize`
and extraction's `writing_line` use it. A font's gap is the median over those syllables of its two side
bearings together (advance less ink width); its space is the advance of U+0020. What a line set in the
font shows differs by the bearings of the two syllables around the space: `shown_space` is the space as a
writer's line in that font shows it (its word gap less its median syllable gap), what the writing line reads.

    >>> true_spacing(Path("NanumPen.ttf"))      # Spacing(gap=0.04, space=0.39)
    >>> shown_space(Path("NanumPen.ttf"), "우주를 보는")   # 0.30: 를 and 보 overhang their advances
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from services.packaging.normalize import Spacing
from templates.charset import HANGUL


def _template_syllables(font: TTFont) -> list[tuple[float, float]]:
    """(ink extent, side bearings together) of each template syllable the font draws."""
    cmap, glyphs, metrics = font.getBestCmap(), font.getGlyphSet(), font["hmtx"]
    found = []
    for ch in HANGUL:
        name = cmap.get(ord(ch))
        if name is None:
            continue
        pen = BoundsPen(glyphs)
        glyphs[name].draw(pen)
        if pen.bounds is None:
            continue
        x0, y0, x1, y1 = pen.bounds
        found.append((max(x1 - x0, y1 - y0), metrics[name][0] - (x1 - x0)))
    return found


def _unit(found: list[tuple[float, float]], font_path: Path) -> float:
    """The median ink extent of the font's template syllables (`_template_syllables`)."""
    if not found:
        raise ValueError(f"{font_path.name} draws none of the template syllables")
    return median(extent for extent, _ in found)


@functools.cache
def true_spacing(font_path: Path) -> Spacing:
    """Return the font's own spacing (see the module docstring)."""
    font = TTFont(font_path)
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    found = _template_syllables(font)
    unit, sides = _unit(found, font_path), [side for _, side in found]
    space = metrics[cmap[0x20]][0] if 0x20 in cmap else float("nan")
    return Spacing(median(sides) / unit, space / unit)


def shown_space(font_path: Path, phrase: str) -> float:
    """The space between the words of `phrase` set in the font (advances, no kerning), less the median gap
    between its neighbouring syllables, in the font's unit (see the module docstring)."""
    font = TTFont(font_path)
    cmap, glyphs, metrics = font.getBestCmap(), font.getGlyphSet(), font["hmtx"]
    x = 0.0
    edges: list[tuple[float, float]] = []  # each syllable's ink, left and right, along the line
    space_after: list[int] = []  # the syllables a space follows
    for ch in phrase:
        name = cmap.get(ord(ch))
        if name is None:
            raise ValueError(f"{font_path.name} has no glyph for {ch!r}")
        if ch.isspace():
            space_after.append(len(edges) - 1)
        else:
            pen = BoundsPen(glyphs)
            glyphs[name].draw(pen)
            if pen.bounds is None:
                raise ValueError(f"{font_path.name} draws no ink for {ch!r}")
            edges.append((x + pen.bounds[0], x + pen.bounds[2]))
        x += metrics[name][0]
    gaps = [right[0] - left[1] for left, right in itertools.pairwise(edges)]
    syllable_gaps = [g for i, g in enumerate(gaps) if i not in space_after]
    words = [gaps[i] for i in space_after]
    if not words or not syllable_gaps:
        raise ValueError(f"{phrase!r} needs two words of two syllables or more")
    return (median(words) - median(syllable_gaps)) / _unit(_template_syllables(font), font_path)


@dataclass(frozen=True)
class LineCheck:
    """What the writing line read for one font, against the font's true spacing."""

    font: str
    truth: Spacing
    read: dict[str, Any]  # the writing line's report entry


def spacing_cells(truth: Spacing, read: dict[str, Any] | None) -> str:
    """Markdown cells "gap true / read | space true / read" ("default" where nothing was measured)."""
    if not read or read.get("status") != "measured":
        why = read.get("status", "not read") if read else "not read"
        return f"{truth.gap:.3f} / {why} | {truth.space:.3f} / {why}"
    return f"{truth.gap:.3f} / {read['gap']:.3f} | {truth.space:.3f} / {read['space']:.3f}"


def line_check_table(checks: Sequence[LineCheck]) -> list[str]:
    """Markdown table of the writing line's reading against the true spacing, with the errors."""
    lines = ["| font | gap true / read | error | space true / read | error |", "|---|---|---|---|---|"]
    for c in checks:
        if c.read.get("status") == "measured":
            gap, space = c.read["gap"] - c.truth.gap, c.read["space"] - c.truth.space
            lines.append(f"| {c.font} | {c.truth.gap:.3f} / {c.read['gap']:.3f} | {gap:+.3f} | "
                         f"{c.truth.space:.3f} / {c.read['space']:.3f} | {space:+.3f} |")
        else:
            lines.append(f"| {c.font} | {c.truth.gap:.3f} / – | {c.read.get('status')} | "
                         f"{c.truth.space:.3f} / – | |")
    measured = [c for c in checks if c.read.get("status") == "measured"]
    if measured:
        gap = median(abs(c.read["gap"] - c.truth.gap) for c in measured)
        space = median(abs(c.read["space"] - c.truth.space) for c in measured)
        lines.append(f"| median absolute error ({len(measured)} of {len(checks)} read) | | {gap:.3f} | | "
                     f"{space:.3f} |")
    return lines
