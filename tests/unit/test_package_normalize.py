"""Placing glyphs in font units: Hangul on one line at one size, Latin on the baseline at the cap height."""

from __future__ import annotations

import numpy as np
import pytest

from models import hangul
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


def test_median_syllable_gets_the_target_size_centred_on_the_line_with_a_proportional_advance() -> None:
    glyphs = {0xAC00 + i: glyph(square(side)) for i, side in enumerate([80, 90, 96, 96, 100, 104, 110])}
    glyphs[0xAC10] = glyph((44, 16, 84, 112))  # a narrow syllable (이): 40 px wide, 96 tall
    placements, problems = N.place_hangul(glyphs)
    assert problems == {}
    median = font_box(glyphs[0xAC02], placements[0xAC02])  # 96 px: the median
    assert median[2] - median[0] == pytest.approx(N.HANGUL_EXTENT)
    for cp, g in glyphs.items():
        x0, y0, x1, y1 = font_box(g, placements[cp])
        advance = placements[cp].advance
        assert advance == round(x1 - x0 + 2 * N.HANGUL_SIDE_BEARING)  # ink plus the side bearings
        assert (x0 + x1) / 2 == pytest.approx(advance / 2)
        assert (y0 + y1) / 2 == pytest.approx(N.HANGUL_CENTRE_Y)
    assert placements[0xAC10].advance < 0.6 * placements[0xAC02].advance


def test_the_writers_spread_is_kept_and_only_true_outliers_pulled_in() -> None:
    sides = {0xAC00 + i: float(96 * np.exp(x)) for i, x in enumerate(np.linspace(-0.3, 0.3, 40))}
    sides[0xAC80] = 96 * 0.5  # far beyond 2.5 sigmas of this hand (but not absurd)
    glyphs = {cp: glyph(square(side)) for cp, side in sides.items()}
    placements, _ = N.place_hangul(glyphs, written=set(glyphs))
    extent = {cp: np.ptp(font_box(g, placements[cp])[[0, 2]]) for cp, g in glyphs.items()}
    ordinary = [cp for cp in sides if cp != 0xAC80]
    kept = np.array([extent[cp] for cp in ordinary]) / np.array([sides[cp] for cp in ordinary])
    assert np.ptp(kept) / kept.mean() < 0.02  # every ordinary syllable keeps its written size
    pulled = extent[0xAC80] / N.HANGUL_EXTENT
    assert 0.5 < pulled < 0.8  # the outlier was pulled in, not all the way to the median


def test_generated_syllables_are_sized_like_written_ones_of_their_group() -> None:
    # Each (vowel, final) group has its own size in this hand; the generator drew every group 10 % too
    # big and squeezed the groups' differences to 70 %: the font re-centres and stretches them back.
    group_size = {(m, f): 96 * np.exp(0.15 * np.sin(3 * m + f)) for m in range(0, 21, 2) for f in (0, 4)}
    written, generated = {}, {}
    for (medial, final), side in group_size.items():
        for initial in range(3):
            written[hangul.compose(initial, medial, final)] = glyph(square(side))
        for initial in range(3, 9):
            drawn = 96 * 1.1 * (side / 96) ** 0.7
            generated[hangul.compose(initial, medial, final)] = glyph(square(drawn))
    placements, _ = N.place_hangul({**written, **generated}, written=set(written))
    extent = {cp: np.ptp(font_box(g, placements[cp])[[0, 2]]) for cp, g in {**written, **generated}.items()}
    for (medial, final), _ in group_size.items():
        mine = extent[hangul.compose(0, medial, final)]
        made = extent[hangul.compose(5, medial, final)]
        assert made == pytest.approx(mine, rel=0.03)


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


def test_latin_is_sized_against_the_hangul_when_the_box_scale_is_known() -> None:
    glyphs = {ord(c): latin((60, BASE - 60, 120, BASE)) for c in "HEFLT"}
    placements, _ = N.place_latin(glyphs, baseline=0.7, units_per_px=5.0)
    top = font_box(glyphs[ord("H")], placements[ord("H")])[3]
    assert top == pytest.approx(60 * 5.0)  # 60 px of cap height at 5 font units per box pixel


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
        assert advance >= round(N.MIN_ADVANCE * N.CAP_HEIGHT)
        assert x0 == pytest.approx(advance - x1, abs=0.01)  # ink centred in its advance
        narrowest = round(N.MIN_ADVANCE * N.CAP_HEIGHT)
        assert x0 >= N.SIDE_BEARING * N.CAP_HEIGHT - 0.5 or advance == narrowest  # the advance is rounded


def test_a_stray_capital_is_pulled_back_towards_the_cap_height() -> None:
    glyphs = {ord(c): latin((60, BASE - 60, 120, BASE)) for c in "HEFLT"}
    glyphs[ord("K")] = latin((60, BASE - 90, 120, BASE))  # 1.5 times too tall
    placements, _ = N.place_latin(glyphs, baseline=0.7)
    top = font_box(glyphs[ord("K")], placements[ord("K")])[3]
    assert top == pytest.approx(N.CAP_HEIGHT * N.LATIN_SIZE_BAND[1])


def test_a_small_letter_written_large_stays_smaller_than_its_capital() -> None:
    # A writer's x-height letters are 40 px, capitals 60 px; this 'o' came out 58 px and this 'O' 54 px.
    glyphs = {ord(c): latin((60, BASE - 60, 120, BASE)) for c in "HEFLT"}
    glyphs |= {ord(c): latin((60, BASE - 40, 100, BASE)) for c in "xnuaem"}
    glyphs[ord("o")] = latin((60, BASE - 58, 118, BASE))
    glyphs[ord("O")] = latin((60, BASE - 54, 114, BASE))
    placements, _ = N.place_latin(glyphs, baseline=0.7)
    small = font_box(glyphs[ord("o")], placements[ord("o")])[3]
    capital = font_box(glyphs[ord("O")], placements[ord("O")])[3]
    assert small <= 0.8 * capital


def test_a_short_t_keeps_its_written_height() -> None:
    glyphs = {ord(c): latin((60, BASE - 60, 120, BASE)) for c in "HEFL"}
    glyphs |= {ord(c): latin((60, BASE - 64, 100, BASE)) for c in "bdhkl"}
    glyphs[ord("t")] = latin((60, BASE - 50, 100, BASE))  # between the x-height and the ascenders
    placements, _ = N.place_latin(glyphs, baseline=0.7)
    t_top = font_box(glyphs[ord("t")], placements[ord("t")])[3]
    assert t_top == pytest.approx(N.CAP_HEIGHT * 50 / 60)


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


def test_measured_spacing_sets_the_side_bearings_and_the_default_is_the_fallback() -> None:
    glyphs = {0xAC00 + i: glyph(square(side)) for i, side in enumerate([80, 90, 96, 100, 110])}
    loose = N.Spacing(gap=0.2, space=0.66)
    measured, _ = N.place_hangul(glyphs, spacing=loose)
    default, _ = N.place_hangul(glyphs)
    for cp, g in glyphs.items():
        x0, _, x1, _ = font_box(g, measured[cp])
        assert measured[cp].advance == round(x1 - x0 + 0.2 * N.HANGUL_EXTENT)  # ink plus 0.2 of the unit
        assert (x0 + x1) / 2 == pytest.approx(measured[cp].advance / 2)
        assert default[cp].advance == round(x1 - x0 + 2 * N.HANGUL_SIDE_BEARING)
    assert loose.space_advance == round(0.66 * N.HANGUL_EXTENT)
    assert N.DEFAULT_SPACING.space_advance == N.SPACE_ADVANCE
    assert N.DEFAULT_SPACING.side_bearing == pytest.approx(N.HANGUL_SIDE_BEARING)
