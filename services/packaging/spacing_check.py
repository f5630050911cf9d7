"""A font's true spacing, in the units the writing line is read in, and the table checking the reading.

The unit is the median ink extent, max(width, height), of the font's template syllables, as `normalize`
and extraction's `writing_line` use it. A font's gap is the median over those syllables of its two side
bearings together (advance less ink width); its space is the advance of U+0020.

    >>> true_spacing(Path("NanumPen.ttf"))      # Spacing(gap=0.04, space=0.39)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from services.packaging.normalize import Spacing
from templates.charset import HANGUL


@functools.cache
def true_spacing(font_path: Path) -> Spacing:
    """Return the font's own spacing (see the module docstring)."""
    font = TTFont(font_path)
    cmap, glyphs, metrics = font.getBestCmap(), font.getGlyphSet(), font["hmtx"]
    extents, sides = [], []
    for ch in HANGUL:
        name = cmap.get(ord(ch))
        if name is None:
            continue
        pen = BoundsPen(glyphs)
        glyphs[name].draw(pen)
        if pen.bounds is None:
            continue
        x0, y0, x1, y1 = pen.bounds
        extents.append(max(x1 - x0, y1 - y0))
        sides.append(metrics[name][0] - (x1 - x0))
    if not extents:
        raise ValueError(f"{font_path.name} draws none of the template syllables")
    unit = median(extents)
    space = metrics[cmap[0x20]][0] if 0x20 in cmap else float("nan")
    return Spacing(median(sides) / unit, space / unit)


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
