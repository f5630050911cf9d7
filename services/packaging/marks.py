"""Draws honest stand-ins for characters people cannot do without (. , ? ! 0-9) that the writer left out.

They are plain strokes (polylines, a dot, ellipses) drawn with the writer's measured pen width at the
writer's cap height, traced like any glyph, and the font's notes say which characters were drawn rather
than written (`font_tables.build_font(notes=...)`). No shape is taken from any other font.

    >>> marks = draw_marks(".0", pen=70, cap=600)      # {0x2E: (traced, placement), 0x30: ...}
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from services.packaging.normalize import MIN_ADVANCE, SIDE_BEARING, Placement
from services.packaging.trace import TracedGlyph, trace_glyph

UNITS_PER_PX = 4  # the marks are drawn at a quarter of the font's resolution, then traced
MARGIN = 60  # font units of paper around the strokes
DIGIT_WIDTH = 0.55  # of the cap height
# Strokes in cap heights, y up from the baseline: ("line", points) or ("ellipse", (cx, cy, rx, ry)).
_SIX = [
    (0.45, 1.0),
    (0.15, 0.65),
    (0.06, 0.3),
    (0.15, 0.05),
    (0.4, 0.03),
    (0.52, 0.25),
    (0.4, 0.47),
    (0.1, 0.4),
]
SHAPES: dict[str, list[tuple[str, list[tuple[float, float]] | tuple[float, float, float, float]]]] = {
    "0": [("ellipse", (0.28, 0.5, 0.25, 0.5))],
    "1": [("line", [(0.12, 0.82), (0.3, 1.0), (0.3, 0.0)])],
    "2": [("line", [(0.05, 0.78), (0.2, 0.97), (0.42, 0.96), (0.5, 0.75), (0.05, 0.0), (0.55, 0.0)])],
    "3": [
        ("line", [(0.05, 0.9), (0.3, 1.0), (0.5, 0.84), (0.28, 0.55), (0.53, 0.3), (0.35, 0.0), (0.04, 0.1)])
    ],
    "4": [("line", [(0.42, 0.0), (0.42, 1.0), (0.02, 0.3), (0.55, 0.3)])],
    "5": [
        (
            "line",
            [(0.5, 1.0), (0.1, 1.0), (0.07, 0.55), (0.35, 0.62), (0.55, 0.35), (0.4, 0.02), (0.04, 0.08)],
        )
    ],
    "6": [("line", _SIX)],
    "7": [("line", [(0.03, 1.0), (0.52, 1.0), (0.2, 0.0)])],
    "8": [("ellipse", (0.28, 0.75, 0.2, 0.23)), ("ellipse", (0.28, 0.27, 0.25, 0.27))],
    "9": [("line", [(DIGIT_WIDTH - x, 1.0 - y) for x, y in _SIX])],
    ".": [("dot", (0.0, 0.0, 0.0, 0.0))],
    ",": [("dot", (0.0, 0.0, 0.0, 0.0)), ("line", [(0.02, 0.02), (-0.06, -0.16)])],
    "!": [("line", [(0.0, 0.3), (0.0, 1.0)]), ("dot", (0.0, 0.0, 0.0, 0.0))],
    "?": [
        (
            "line",
            [(-0.2, 0.8), (-0.1, 0.96), (0.1, 0.98), (0.22, 0.82), (0.14, 0.64), (0.0, 0.5), (0.0, 0.3)],
        ),
        ("dot", (0.0, 0.0, 0.0, 0.0)),
    ],
}
DRAWABLE = frozenset(SHAPES)


def _canvas(strokes: list, pen: float, cap: float) -> tuple[np.ndarray, float]:
    """Draw the strokes; return (image, font y of the image's bottom edge)."""
    points = [p for kind, geo in strokes if kind == "line" for p in geo]
    points += [(cx + sx * rx, cy + sy * ry) for kind, (cx, cy, rx, ry) in
               ((k, g) for k, g in strokes if k != "line") for sx in (-1, 1) for sy in (-1, 1)]  # fmt: skip
    xs, ys = [x * cap for x, _ in points], [y * cap for _, y in points]
    left, bottom = min(xs) - pen - MARGIN, min(ys) - pen - MARGIN
    width = int((max(xs) + pen + MARGIN - left) / UNITS_PER_PX) + 1
    height = int((max(ys) + pen + MARGIN - bottom) / UNITS_PER_PX) + 1
    image = np.full((height, width), 255, np.uint8)

    def px(x: float, y: float) -> tuple[int, int]:  # cap heights -> pixel (column, row), 4 sub-bits
        return (
            round((x * cap - left) / UNITS_PER_PX * 16),
            round((height - (y * cap - bottom) / UNITS_PER_PX) * 16),
        )

    thickness = max(1, round(pen / UNITS_PER_PX))
    for kind, geo in strokes:
        if kind == "line":
            pts = np.array([px(x, y) for x, y in geo], np.int32)
            cv2.polylines(image, [pts], False, 0, thickness, cv2.LINE_AA, shift=4)
        elif kind == "ellipse":
            cx, cy, rx, ry = geo
            axes = (round(rx * cap / UNITS_PER_PX * 16), round(ry * cap / UNITS_PER_PX * 16))
            cv2.ellipse(image, px(cx, cy), axes, 0, 0, 360, 0, thickness, cv2.LINE_AA, shift=4)
        else:  # a dot sits on the baseline, a little wider than the pen
            centre = px(0.0, 0.0)
            radius = round(0.65 * pen / UNITS_PER_PX * 16)
            cv2.circle(image, (centre[0], centre[1] - radius), radius, 0, -1, cv2.LINE_AA, shift=4)
    return image, bottom


def draw_marks(chars: Iterable[str], *, pen: float, cap: float) -> dict[int, tuple[TracedGlyph, Placement]]:
    """Return {code point: (traced glyph, placement)} for each drawable char (others are skipped).

    `pen` is the writer's stroke width and `cap` the cap height, both in font units (positive).
    """
    if not (pen > 0 and cap > 0):
        raise ValueError(f"pen width and cap height must be positive, got {pen} and {cap}")
    marks: dict[int, tuple[TracedGlyph, Placement]] = {}
    for char in chars:
        if char not in SHAPES:
            continue
        image, bottom = _canvas(SHAPES[char], pen, cap)
        traced = trace_glyph(image)
        if traced.is_empty or traced.bbox is None:
            continue
        x0, _, x1, _ = traced.bbox
        width = (x1 - x0) * UNITS_PER_PX
        advance = max(round(width + 2 * SIDE_BEARING * cap), round(MIN_ADVANCE * cap))
        dx = (advance - width) / 2 - x0 * UNITS_PER_PX
        marks[ord(char)] = (traced, Placement(UNITS_PER_PX, dx, bottom, advance))
    return marks
