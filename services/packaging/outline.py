"""Turns a traced, placed glyph into a TrueType glyph: quadratic curves, integer points, no overlaps.

The cubic potrace curves are moved into font units, merged where they overlap (skia-pathops, when it is
installed), converted to quadratics with cu2qu (at most MAX_ERROR units off) and assembled by
`tt_glyph` (integer points, implied on-curve points at smooth joins). Outer contours run clockwise and
holes counter-clockwise, as TrueType's non-zero fill expects.

    >>> glyph = to_tt_glyph(traced, placement)     # fontTools.ttLib.tables._g_l_y_f.Glyph
    >>> glyph.numberOfContours
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.roundingPen import RoundingPen
from fontTools.ttLib.tables._g_l_y_f import Glyph

from services.packaging.normalize import Placement
from services.packaging.potrace_lib import CORNER
from services.packaging.trace import TracedGlyph
from services.packaging.tt_glyph import QuadraticCollector, assemble

try:  # skia-pathops: optional, potrace's own outlines rarely overlap and are already well oriented
    import pathops
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    pathops = None

MAX_ERROR = 2.0  # font units a quadratic may stray from potrace's cubic (0.2 px at 100 px per em)
JOIN_ERROR = 1.5  # font units an outline may move when a smooth join becomes an implied point


def _draw(traced: TracedGlyph, placement: Placement, pen: Any) -> None:
    """Draw the traced contours, moved into font units, on a segment pen."""
    for curve in traced.contours:
        points = placement.apply(curve.points).tolist()  # plain floats: pens are called per point
        pen.moveTo(tuple(points[-1][2]))
        for tag, (c1, c2, end) in zip(curve.tags.tolist(), points, strict=True):
            if tag == CORNER:
                pen.lineTo(tuple(c2))
                pen.lineTo(tuple(end))
            else:
                pen.curveTo(tuple(c1), tuple(c2), tuple(end))
        pen.closePath()


def _merge_overlaps(traced: TracedGlyph, placement: Placement) -> Any:
    """Return a pathops.Path of the glyph with overlaps removed and outer contours clockwise."""
    path = pathops.Path()
    _draw(traced, placement, path.getPen())
    try:
        return pathops.simplify(path, clockwise=True)
    except pathops.PathOpsError:
        # Skia sometimes fails on float control points that nearly coincide; rounding first is the
        # documented workaround (fontTools.ttLib.removeOverlaps does the same).
        rounded = pathops.Path()
        path.draw(RoundingPen(rounded.getPen()))
        return pathops.simplify(rounded, clockwise=True)


def to_tt_glyph(traced: TracedGlyph, placement: Placement) -> Glyph:
    """Return the TrueType glyph for `traced` placed by `placement` (bounds are computed by glyf).

    Raises ValueError if the glyph has no contours: an empty glyph must be reported, not shipped.
    """
    if traced.is_empty:
        raise ValueError("cannot build an outline from a glyph without contours")
    collector = QuadraticCollector()
    # cu2qu keeps the direction it is given (already TrueType's).
    quad_pen = Cu2QuPen(collector, MAX_ERROR, reverse_direction=False)
    if pathops is not None:
        _merge_overlaps(traced, placement).draw(quad_pen)
    else:
        _draw(traced, placement, quad_pen)
    glyph = assemble(collector, join_error=JOIN_ERROR)
    if glyph.numberOfContours == 0:
        raise ValueError("the glyph's outline vanished when it was converted (it had no area)")
    return glyph


def outline_all(
    traced: Mapping[int, TracedGlyph], placements: Mapping[int, Placement], broken: dict[int, str]
) -> dict[int, tuple[Glyph, int]]:
    """Outline every placed glyph: {code point: (TrueType glyph, advance)}; failures go into `broken`."""
    glyphs: dict[int, tuple[Glyph, int]] = {}
    for cp, placement in placements.items():
        try:
            glyphs[cp] = (to_tt_glyph(traced[cp], placement), placement.advance)
        except ValueError as exc:
            broken[cp] = str(exc)
    return glyphs


def outline_alternates(
    placed: Mapping[tuple[int, int], tuple[TracedGlyph, Placement]],
) -> dict[tuple[int, int], tuple[Glyph, int]]:
    """Outline placed alternates: {(code point, k): (glyph, advance)}; a cycle stops at a failed one."""
    outlines: dict[tuple[int, int], tuple[Glyph, int]] = {}
    for (cp, k), (glyph, placement) in sorted(placed.items()):
        if k > 1 and (cp, k - 1) not in outlines:
            continue
        try:
            outlines[cp, k] = (to_tt_glyph(glyph, placement), placement.advance)
        except ValueError:
            continue
    return outlines
