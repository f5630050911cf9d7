"""Assembling TrueType glyphs: integer points, closed contours, implied on-curve points at smooth joins."""

from __future__ import annotations

import numpy as np
import pytest
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib.tables._g_l_y_f import table__g_l_y_f

from services.packaging.tt_glyph import QuadraticCollector, assemble, smooth_joins


def circle(radius: float, pieces: int, *, clockwise: bool = True) -> QuadraticCollector:
    """A circle of quadratic pieces, every on-curve point written out (as cu2qu does between cubics)."""
    pen = QuadraticCollector()
    step = (-1 if clockwise else 1) * 2 * np.pi / pieces
    control = radius / np.cos(step / 2)  # the tangent lines of neighbouring on-curve points meet here
    pen.moveTo((radius, 0.0))
    for i in range(pieces):
        mid, end = (i + 0.5) * step, (i + 1) * step
        pen.qCurveTo(
            (control * np.cos(mid), control * np.sin(mid)), (radius * np.cos(end), radius * np.sin(end))
        )
    pen.closePath()
    return pen


def test_closing_point_is_not_duplicated_and_points_are_integers() -> None:
    pen = circle(100.4, 8)
    glyph = assemble(pen, join_error=0)
    assert glyph.numberOfContours == 1
    assert len(glyph.coordinates) == 16  # 8 on-curve + 8 off-curve; the repeated start is gone
    assert all(float(v).is_integer() for v in np.array(glyph.coordinates).ravel())


def test_smooth_joins_of_a_large_circle_become_implied() -> None:
    glyph = assemble(circle(300, 16), join_error=1.5)
    flags = np.array(glyph.flags) & 1
    # On-curve points sit at the midpoints of their off-curve neighbours already: all can go.
    assert flags.sum() == 0 and len(glyph.coordinates) == 16


def test_joins_are_kept_where_dropping_them_would_move_the_outline() -> None:
    pen = QuadraticCollector()
    # A join far from the midpoint of its neighbours on a tight bend: implying it would cut the corner.
    pen.moveTo((0, 0))
    pen.qCurveTo((0, 100), (10, 100))
    pen.qCurveTo((200, 100), (200, 0))
    pen.closePath()
    glyph = assemble(pen, join_error=1.5)
    assert len(glyph.coordinates) == 5


def test_dropping_joins_keeps_the_shape_within_the_error() -> None:
    glyf = table__g_l_y_f()
    exact = assemble(circle(200, 12), join_error=0)
    lean = assemble(circle(200, 12), join_error=1.5)
    assert len(lean.coordinates) < len(exact.coordinates)

    def samples(g: object) -> np.ndarray:
        pen = DecomposingRecordingPen(None)
        g.draw(pen, glyf)  # type: ignore[attr-defined]
        points = [pt for _, args in pen.value for pt in args if pt is not None]
        return np.array(points, dtype=float)

    radii = np.hypot(*samples(lean).T)
    assert np.all(radii > 190)  # off-curve control points lie outside; on-curve ones near r = 200


def test_corners_between_lines_are_never_dropped() -> None:
    pen = QuadraticCollector()
    for i, pt in enumerate([(0, 0), (0, 100), (100, 100), (100, 0)]):
        (pen.moveTo if i == 0 else pen.lineTo)(pt)
    pen.closePath()
    glyph = assemble(pen, join_error=100)
    assert list(glyph.flags) == [1, 1, 1, 1]


def test_smooth_joins_mask_handles_several_contours() -> None:
    points: list[tuple[float, float]] = []
    on: list[bool] = []
    ends: list[int] = []
    for source in (circle(300, 8), circle(100, 8, clockwise=False)):
        # Each contour without the point that repeats its start.
        points += source.points[:-1]
        on += source.on_curve[:-1]
        ends.append(len(points) - 1)
    mask = smooth_joins(np.array(points), np.array(on), ends, 1.5)
    assert mask.sum() == 16  # every on-curve point of both circles


def test_empty_collector_gives_an_empty_glyph_and_cubics_are_refused() -> None:
    assert assemble(QuadraticCollector(), join_error=1).numberOfContours == 0
    with pytest.raises(ValueError, match="cu2qu"):
        QuadraticCollector().curveTo((0, 0), (1, 1), (2, 2))


def test_contour_of_off_curve_points_only_becomes_a_closed_glyph() -> None:
    # What cu2qu emits for a small dot: qCurveTo(off, off, off, off, None), no moveTo.
    pen = QuadraticCollector()
    pen.qCurveTo((100, 0), (0, -100), (-100, 0), (0, 100), None)
    pen.closePath()
    glyph = assemble(pen, join_error=0)
    assert glyph.numberOfContours == 1
    coords = [tuple(c) for c in glyph.coordinates]
    flags = [f & 1 for f in glyph.flags]
    assert coords[0] == (50, 50) and flags[0] == 1  # the implied point between last and first, made explicit
    assert coords[1:] == [(100, 0), (0, -100), (-100, 0), (0, 100)] and flags[1:] == [0, 0, 0, 0]
    assert list(glyph.endPtsOfContours) == [4]
