"""Placing glyphs in font units: Hangul on one line at one size, Latin on the baseline at the cap height."""

from __future__ import annotations

import numpy as np
import pytest

from services.packaging import normalize as N
from services.packaging.potrace_lib import CURVETO, Curve
from services.packaging.trace import TracedGlyph

DUMMY = (Curve(np.array([CURVETO]), np.zeros((1, 3, 2)), 1),)


def glyph(bbox: tuple[float, float, float, float], size: int = 128, ink: float = 0.1) -> TracedGlyph:
    """A traced glyph with the given ink box (pixels, y up) in a size x size image."""
    return TracedGlyph(size, size, bbox, DUMMY, ink)


def font_box(g: TracedGlyph, p: N.Placement) -> np.ndarray:
    """The glyph's ink box in font units: (x0, y0, x1, y1)."""
    assert g.bbox is not None
    return np.concatenate([p.apply(np.array(g.bbox[:2])), p.apply(np.array(g.bbox[2:]))])


def square(side: float, cx: float = 64, cy: float = 64) -> tuple[float, float, float, float]:
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def test_median_syllable_gets_the_target_size_centred_on_the_line() -> None:
    glyphs = {0xAC00 + i: glyph(square(side)) for i, side in enumerate([80, 90, 96, 96, 100, 104, 110])}
    placements, problems = N.place_hangul(glyphs)
    assert problems == {}
    median = font_box(glyphs[0xAC02], placements[0xAC02])  # 96 px: the median
    assert median[2] - median[0] == pytest.approx(N.HANGUL_EXTENT)
    for cp, g in glyphs.items():
        x0, y0, x1, y1 = font_box(g, placements[cp])
        assert placements[cp].advance == N.HANGUL_ADVANCE
        assert (x0 + x1) / 2 == pytest.approx(N.HANGUL_ADVANCE / 2)
        assert (y0 + y1) / 2 == pytest.approx(N.HANGUL_CENTRE_Y)


def test_relative_sizes_survive_inside_the_band_and_outliers_are_clamped() -> None:
    sides = {0xAC00: 96, 0xAC01: 96, 0xAC02: 96, 0xAC03: 86, 0xAC04: 40, 0xAC05: 200 * 0.6}
    glyphs = {cp: glyph(square(side, 100, 100), size=200) for cp, side in sides.items()}
    placements, _ = N.place_hangul(glyphs)
    extent = {cp: np.ptp(font_box(g, placements[cp])[[0, 2]]) for cp, g in glyphs.items()}
    # 86 px is 0.9 of the median: it stays 0.9 of the target size.
    assert extent[0xAC03] / extent[0xAC00] == pytest.approx(86 / 96)
    # 40 px is 0.42 of the median: brought up to the band's floor; 120 px (1.25) down to its ceiling.
    assert extent[0xAC04] == pytest.approx(N.HANGUL_EXTENT * N.HANGUL_SIZE_BAND[0])
    assert extent[0xAC05] == pytest.approx(N.HANGUL_EXTENT * N.HANGUL_SIZE_BAND[1])
    assert max(extent.values()) < N.HANGUL_ADVANCE


def test_absurd_and_empty_syllables_are_reported_not_placed() -> None:
    glyphs = {0xAC00 + i: glyph(square(96)) for i in range(5)}
    glyphs[0xAC10] = glyph(square(10))  # a dot where a syllable should be
    glyphs[0xAC11] = TracedGlyph(128, 128, None, (), 0.0)
    glyphs[0xAC12] = glyph(square(120), ink=0.9)  # a black blot
    placements, problems = N.place_hangul(glyphs)
    assert set(problems) == {0xAC10, 0xAC11, 0xAC12}
    assert "median" in problems[0xAC10] and "no ink" in problems[0xAC11] and "blot" in problems[0xAC12]
    assert set(placements) == {0xAC00 + i for i in range(5)}


def test_canonical_and_writing_box_syllables_are_scaled_separately() -> None:
    generated = {0xAC00 + i: glyph(square(96)) for i in range(3)}
    written = {0xB000 + i: glyph(square(150, 100, 100), size=200) for i in range(3)}
    placements, _ = N.place_hangul({**generated, **written})
    a = font_box(generated[0xAC00], placements[0xAC00])
    b = font_box(written[0xB000], placements[0xB000])
    assert a[2] - a[0] == pytest.approx(b[2] - b[0]) == pytest.approx(N.HANGUL_EXTENT)


def latin(bbox_top_down: tuple[float, float, float, float], box: int = 200) -> TracedGlyph:
    """A writing-box glyph given as (x0, top, x1, bottom) in rows from the box top."""
    x0, top, x1, bottom = bbox_top_down
    return TracedGlyph(box, box, (x0, box - bottom, x1, box - top), DUMMY, 0.05)


BASE = 0.7 * 200  # baseline row used below (baseline=0.7)


def test_latin_sits_on_the_baseline_with_the_cap_height() -> None:
    glyphs = {
        ord("H"): latin((60, BASE - 60, 120, BASE)),
        ord("E"): latin((60, BASE - 62, 110, BASE)),
        ord("T"): latin((60, BASE - 58, 120, BASE)),
        ord("x"): latin((70, BASE - 40, 110, BASE)),
        ord("g"): latin((70, BASE - 40, 110, BASE + 20)),
        ord("."): latin((90, BASE - 6, 96, BASE)),
        ord("'"): latin((90, BASE - 60, 95, BASE - 45)),
    }
    placements, problems = N.place_latin(glyphs, baseline=0.7)
    assert problems == {}
    box = {chr(cp): font_box(g, placements[cp]) for cp, g in glyphs.items()}
    assert box["H"][3] == pytest.approx(N.CAP_HEIGHT)  # 60 px is the median cap height
    assert (
        box["H"][1] == pytest.approx(0)
        and box["x"][1] == pytest.approx(0)
        and box["."][1] == pytest.approx(0)
    )
    assert box["x"][3] == pytest.approx(N.CAP_HEIGHT * 40 / 60)  # the writer's x-height ratio is kept
    assert box["g"][1] == pytest.approx(-N.CAP_HEIGHT * 20 / 60)  # descender below the baseline
    assert box["'"][1] > N.CAP_HEIGHT / 2  # an apostrophe stays up high
    for cp in glyphs:
        x0, _, x1, _ = box[chr(cp)]
        advance = placements[cp].advance
        assert advance >= N.MIN_ADVANCE
        assert x0 == pytest.approx(advance - x1, abs=0.01)  # ink centred in its advance
        assert x0 >= N.SIDE_BEARING - 0.5 or advance == N.MIN_ADVANCE  # the advance is rounded


def test_a_stray_capital_is_pulled_back_towards_the_cap_height() -> None:
    glyphs = {ord(c): latin((60, BASE - 60, 120, BASE)) for c in "HEFLT"}
    glyphs[ord("K")] = latin((60, BASE - 90, 120, BASE))  # 1.5 times too tall
    placements, _ = N.place_latin(glyphs, baseline=0.7)
    top = font_box(glyphs[ord("K")], placements[ord("K")])[3]
    assert top == pytest.approx(N.CAP_HEIGHT * N.LATIN_SIZE_BAND[1])


def test_without_capitals_the_x_height_sets_the_scale() -> None:
    glyphs = {ord(c): latin((60, BASE - 50, 110, BASE)) for c in "xnou"}
    placements, _ = N.place_latin(glyphs, baseline=0.7)
    assert font_box(glyphs[ord("x")], placements[ord("x")])[3] == pytest.approx(N.X_HEIGHT)


def test_a_stroke_across_the_box_is_reported() -> None:
    glyphs = {ord(c): latin((60, BASE - 30, 120, BASE)) for c in "HEFLT"}
    glyphs[ord("/")] = latin((0, 0, 200, 200))
    placements, problems = N.place_latin(glyphs, baseline=0.7)
    assert ord("/") in problems and "cap height" in problems[ord("/")]
    assert ord("/") not in placements


def test_baseline_must_be_inside_the_box() -> None:
    with pytest.raises(ValueError, match="baseline"):
        N.place_latin({}, baseline=1.5)


def test_code_point_classes() -> None:
    assert N.is_hangul(0xAC00) and N.is_hangul(0xD7A3) and not N.is_hangul(0x3131)
    assert N.is_latin(ord("!")) and N.is_latin(ord("~")) and not N.is_latin(ord(" "))
