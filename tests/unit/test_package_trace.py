"""Tracing one glyph bitmap: holes kept, specks dropped, orientation and coordinates as promised."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from services.packaging import potrace_lib
from services.packaging.package import load_glyph_image
from services.packaging.potrace_lib import CORNER, trace_mask
from services.packaging.trace import contour_polygon, signed_area, trace_glyph

GLYPHS = Path(__file__).parents[1] / "fixtures" / "package" / "glyphs"


def ring(size: int = 128, outer: int = 40, inner: int = 20) -> np.ndarray:
    """A white image with a dark anti-aliased ring (an ㅇ) in the middle."""
    image = np.full((size, size), 255, np.uint8)
    cv2.circle(image, (size // 2, size // 2), outer, 0, -1, lineType=cv2.LINE_AA)
    cv2.circle(image, (size // 2, size // 2), inner, 255, -1, lineType=cv2.LINE_AA)
    return image


def test_ring_has_outline_and_hole_with_truetype_orientation() -> None:
    traced = trace_glyph(ring())
    assert len(traced.contours) == 2
    outline, hole = sorted(traced.contours, key=lambda c: signed_area(c))
    # y points up: outer contour clockwise (negative area), hole counter-clockwise (positive).
    assert signed_area(outline) < 0 < signed_area(hole)
    assert outline.sign == 1 and hole.sign == -1
    assert abs(signed_area(outline)) == pytest.approx(np.pi * 40**2, rel=0.03)
    assert abs(signed_area(hole)) == pytest.approx(np.pi * 20**2, rel=0.05)


def test_ring_is_smooth_not_a_staircase() -> None:
    traced = trace_glyph(ring())
    for curve in traced.contours:
        # A pixel staircase would need dozens of corners; potrace's curves need a handful of segments.
        assert len(curve.tags) <= 12
        assert not (curve.tags == CORNER).any()


def test_hole_of_written_ieung_survives() -> None:
    """앙 from the fixtures: ㅇ on top and ㅇ as the final consonant, each with a hole."""
    traced = trace_glyph(load_glyph_image(GLYPHS / "U+C559.png"))
    holes = [c for c in traced.contours if signed_area(c) > 0]
    assert len(holes) >= 2


def test_specks_are_dropped_but_the_glyph_is_not() -> None:
    image = ring()
    clean = trace_glyph(image)
    image[5:7, 5:7] = 0  # a 4-pixel speck far from the ink
    image[120, 60] = 30
    traced = trace_glyph(image)
    assert len(traced.contours) == len(clean.contours)
    assert traced.bbox == clean.bbox


def test_a_lone_period_is_not_a_speck() -> None:
    image = np.full((200, 200), 255, np.uint8)
    cv2.circle(image, (100, 140), 5, 0, -1, lineType=cv2.LINE_AA)
    traced = trace_glyph(image)
    assert len(traced.contours) == 1
    assert traced.bbox is not None


def test_coordinates_are_source_pixels_with_y_up() -> None:
    image = np.full((100, 80), 255, np.uint8)
    image[10:30, 20:50] = 0  # rows 10..29 from the top = y 70..90 from the bottom
    traced = trace_glyph(image)
    assert traced.width == 80 and traced.height == 100
    assert traced.bbox == pytest.approx((20, 70, 50, 90), abs=0.5)
    points = np.concatenate([contour_polygon(c) for c in traced.contours])
    assert points.min(axis=0) == pytest.approx([20, 70], abs=0.6)
    assert points.max(axis=0) == pytest.approx([50, 90], abs=0.6)


def test_blank_image_traces_to_nothing() -> None:
    traced = trace_glyph(np.full((128, 128), 255, np.uint8))
    assert traced.is_empty and traced.bbox is None and traced.contours == ()


def test_ink_touching_the_image_edge_is_traced() -> None:
    image = np.full((64, 64), 255, np.uint8)
    image[:, :10] = 0  # a bar along the left edge
    traced = trace_glyph(image)
    assert traced.bbox == pytest.approx((0, 0, 10, 64), abs=0.5)


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32), np.zeros((0, 5))]
)
def test_bad_arrays_raise_value_error(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        trace_glyph(bad)


def test_ctypes_binding_matches_pypotrace() -> None:
    """The fast libpotrace binding returns exactly what pypotrace (the slow reference) returns."""
    pytest.importorskip("potrace")
    mask = ring(64, 25, 10) < 128
    mask[60:63, 2:20] = True  # a bar below the ring
    fast = trace_mask(mask, turdsize=2, alphamax=1.0, opttolerance=0.2)
    slow = potrace_lib._trace_with_pypotrace(mask, 2, 1.0, True, 0.2)
    assert len(fast) == len(slow) == 3
    for a, b in zip(fast, slow, strict=True):
        assert a.sign == b.sign
        np.testing.assert_array_equal(a.tags, b.tags)
        np.testing.assert_allclose(a.points[:, 1:], b.points[:, 1:])  # point 0 is unused for corners
