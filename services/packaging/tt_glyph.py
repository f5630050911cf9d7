"""Assembles a TrueType glyph from quadratic contours: integer points and implied on-curve points.

`QuadraticCollector` is a segment pen (moveTo / lineTo / qCurveTo / closePath, what cu2qu emits) that
gathers points; `assemble` rounds them and, where two quadratic pieces meet smoothly, drops the
on-curve point between them (TrueType implies it at the midpoint of its off-curve neighbours) if that
moves the outline by at most `join_error` font units. That removes about a third of the points, which
is what keeps 11,172 syllables under 4 MB. It is numpy throughout: fontTools' TTGlyphPen rounds one
coordinate at a time, which cost more than the tracing.

    >>> collector = QuadraticCollector()
    >>> Cu2QuPen(collector, 2.0).moveTo((0, 0)) ...
    >>> glyph = assemble(collector, join_error=1.0)
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphCoordinates, flagOnCurve

Point = tuple[float, float]
COLLINEAR = 1.0  # font units: a join this close to the line through its neighbours counts as smooth


class QuadraticCollector:
    """A segment pen that records closed quadratic contours as points with on-curve flags."""

    def __init__(self) -> None:
        self.points: list[Point] = []
        self.on_curve: list[bool] = []
        self.ends: list[int] = []
        self._start = 0

    def moveTo(self, point: Point) -> None:
        self._start = len(self.points)
        self.points.append(point)
        self.on_curve.append(True)

    def lineTo(self, point: Point) -> None:
        self.points.append(point)
        self.on_curve.append(True)

    def qCurveTo(self, *points: Point | None) -> None:
        if points[-1] is None:
            # A closed contour of off-curve points only (cu2qu's answer for a small round dot). Every
            # on-curve point is implied; write the one between the last and the first out, as its start.
            offs = [p for p in points[:-1] if p is not None]
            (x0, y0), (x1, y1) = offs[-1], offs[0]
            self.moveTo(((x0 + x1) / 2, (y0 + y1) / 2))
            for off in offs:
                self.points.append(off)
                self.on_curve.append(False)
            return
        for point in points[:-1]:
            assert point is not None
            self.points.append(point)
            self.on_curve.append(False)
        self.lineTo(points[-1])

    def curveTo(self, *points: Point) -> None:
        raise ValueError("cubic segments must be converted (cu2qu) before they reach a TrueType glyph")

    def closePath(self) -> None:
        # A pen may close a contour by returning to its start; `assemble` drops that repeated point.
        if len(self.points) - self._start < 3:  # a sliver with no area
            del self.points[self._start :], self.on_curve[self._start :]
            return
        self.ends.append(len(self.points) - 1)

    endPath = closePath


def _curvature_at_end(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Curvature at the end point p2 of the quadratic pieces (p0, p1, p2), row-wise."""
    d0, d1 = p1 - p0, p2 - p1
    cross = np.abs(d1[:, 0] * d0[:, 1] - d1[:, 1] * d0[:, 0])
    return cross / np.maximum(2 * np.hypot(d1[:, 0], d1[:, 1]) ** 3, 1e-9)


def _neighbours(ends: Sequence[int], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (previous, next) point indices, wrapping around inside each contour."""
    index = np.arange(count)
    prev, nxt = index - 1, index + 1
    ends_arr = np.asarray(ends, dtype=np.intp)
    starts = np.concatenate([[0], ends_arr[:-1] + 1])
    prev[starts] = ends_arr
    nxt[ends_arr] = starts
    return prev, nxt


def smooth_joins(points: np.ndarray, on: np.ndarray, ends: Sequence[int], join_error: float) -> np.ndarray:
    """Return a boolean mask of the on-curve points that may become implied (see module docstring)."""
    prev, nxt = _neighbours(ends, len(points))
    prev2, next2 = prev[prev], nxt[nxt]
    a, join, b = points[prev], points, points[nxt]
    candidate = on & ~on[prev] & ~on[nxt] & (prev2 != np.arange(len(points)))
    # The far ends of the two quadratic pieces: an explicit on-curve point or an implied midpoint.
    far_a = np.where(on[prev2, None], points[prev2], (points[prev2] + a) / 2)
    far_b = np.where(on[next2, None], points[next2], (points[next2] + b) / 2)
    ab = b - a
    off_line = np.abs(ab[:, 0] * (join - a)[:, 1] - ab[:, 1] * (join - a)[:, 0])
    off_line /= np.maximum(np.hypot(ab[:, 0], ab[:, 1]), 1e-9)
    # Sliding the join along its tangent to the midpoint moves the outline by about
    # curvature * distance^2 / 2: the gap between a curve and its tangent line.
    shift2 = (((a + b) / 2 - join) ** 2).sum(axis=1)
    curvature = np.maximum(_curvature_at_end(far_a, a, join), _curvature_at_end(far_b, b, join))
    return candidate & (off_line <= COLLINEAR) & (curvature * shift2 / 2 <= join_error)


def _subset(
    points: np.ndarray, on: np.ndarray, ends: list[int], keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Keep the points where `keep` is True, renumbering contour ends; emptied contours vanish."""
    if keep.all():
        return points, on, ends
    kept_before = np.cumsum(keep) - 1
    new_ends, last = [], -1
    for end in ends:
        if kept_before[end] > last:  # the contour kept at least one point
            last = int(kept_before[end])
            new_ends.append(last)
    return points[keep], on[keep], new_ends


def assemble(collector: QuadraticCollector, *, join_error: float) -> Glyph:
    """Return a simple TrueType glyph (integer points, no instructions) from the collected contours.

    `join_error` <= 0 keeps every on-curve point. A glyph without contours is returned empty.
    """
    glyph = Glyph()
    glyph.numberOfContours = 0
    if not collector.ends:
        return glyph
    # otRound semantics (round half up), so the result matches fontTools' own pens.
    points = np.floor(np.asarray(collector.points, dtype=np.float64) + 0.5)
    on = np.asarray(collector.on_curve, dtype=bool)
    ends = list(collector.ends)
    # An on-curve point on top of the on-curve point before it (a contour returning to its start,
    # a segment shorter than a unit) adds nothing.
    prev, _ = _neighbours(ends, len(points))
    keep = ~(on & on[prev] & (points == points[prev]).all(axis=1))
    points, on, ends = _subset(points, on, ends, keep)
    if join_error > 0:
        points, on, ends = _subset(points, on, ends, ~smooth_joins(points, on, ends, join_error))
    coordinates = GlyphCoordinates()
    coordinates.array.frombytes(points.astype(np.float64).tobytes())
    glyph.coordinates = coordinates
    glyph.flags = array("B", (on.astype(np.uint8) * flagOnCurve).tobytes())
    glyph.endPtsOfContours = ends
    glyph.numberOfContours = len(ends)
    glyph.program = ttProgram.Program()
    glyph.program.fromBytecode(b"")
    return glyph
