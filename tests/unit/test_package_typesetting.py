"""Typesetting pieces: coverage list, jamo cuts, drawn marks, kerning, size model, hand facts, calt rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from models import hangul
from services.packaging import kerning
from services.packaging.coverage import DRAWN, coverage_report
from services.packaging.hand import HAND_FILE, load_hand, save_hand
from services.packaging.jamo import JAMO, cut_part, source_syllables
from services.packaging.marks import draw_marks
from services.packaging.metrics import STRETCH_LIMITS, size_model
from services.packaging.outline import to_tt_glyph
from services.packaging.variants import calt_feature
from templates.charset import LATIN


def test_coverage_lists_every_unwritten_latin_character_with_its_fallback() -> None:
    written = {ord(c) for c in "ABCabc.0"} | {0xAC00}
    missing = coverage_report(written)
    chars = {m.char for m in missing}
    assert chars == set(LATIN) - set("ABCabc.0")
    by_char = {m.char: m for m in missing}
    assert by_char["?"].fallback == "drawn" and by_char["5"].fallback == "drawn"
    assert by_char["Z"].fallback == "none" and by_char["~"].fallback == "none"
    assert "펜" in by_char["?"].reason and "pen width" in by_char["?"].reason
    assert [m.codepoint for m in missing] == sorted(ord(c) for c in chars)
    with pytest.raises(dataclasses.FrozenInstanceError):
        missing[0].fallback = "drawn"  # type: ignore[misc]


def test_nothing_is_missing_when_all_latin_is_written() -> None:
    assert coverage_report(ord(c) for c in LATIN) == []
    assert set(LATIN) >= DRAWN


def test_every_jamo_has_source_syllables() -> None:
    assert len(JAMO) == 51
    for cp in JAMO:
        sources = source_syllables(cp)
        assert sources and all(0xAC00 <= s <= 0xD7A3 for s, _ in sources)
    assert source_syllables(ord("ㅋ"))[0] == (ord("키"), "left")
    assert source_syllables(ord("ㅠ"))[0] == (ord("유"), "below")


def test_a_consonant_is_cut_left_of_its_vowel_along_whole_strokes() -> None:
    image = np.full((128, 128), 255, np.uint8)
    cv2.rectangle(image, (20, 30), (55, 40), 0, -1)  # a consonant's bar, overhanging ...
    cv2.rectangle(image, (50, 30), (58, 90), 0, -1)  # ... into its stem
    cv2.rectangle(image, (80, 15), (88, 110), 0, -1)  # the vowel ㅣ
    part = cut_part(image, "left")
    assert part is not None
    assert (part[:, :60] == image[:, :60]).all() and (part[:, 70:] == 255).all()


def test_a_cut_through_touching_strokes_that_keeps_everything_is_refused() -> None:
    image = np.full((128, 128), 255, np.uint8)
    cv2.rectangle(image, (20, 90), (100, 110), 0, -1)  # a bar ...
    cv2.rectangle(image, (56, 20), (60, 90), 0, -1)  # ... and a stem drawn in one stroke: no clean part
    assert cut_part(image, "below") is None


def test_marks_are_drawn_with_the_pen_width_at_the_cap_height() -> None:
    thin, thick = draw_marks("1.", pen=30, cap=600), draw_marks("1", pen=90, cap=600)

    def box(mark: tuple) -> np.ndarray:  # (x0, y0, x1, y1) of the outline's points
        points = np.asarray(to_tt_glyph(*mark).coordinates)
        return np.concatenate([points.min(axis=0), points.max(axis=0)])

    one = box(thin[ord("1")])
    assert one[3] == pytest.approx(600 + 15, abs=20) and one[1] == pytest.approx(-15, abs=20)
    assert box(thick[ord("1")])[2] - box(thick[ord("1")])[0] > one[2] - one[0]  # a thicker pen
    assert box(thin[ord(".")])[3] < 100  # a period sits on the baseline
    assert draw_marks("A", pen=30, cap=600) == {}  # only the indispensable marks are drawable
    with pytest.raises(ValueError, match="positive"):
        draw_marks(".", pen=float("nan"), cap=600)


def test_kerning_pulls_an_open_pair_in_and_pushes_a_colliding_one_out() -> None:
    assert kerning.kern_value(200, 80) < 0
    assert kerning.kern_value(10, 80) > 0
    assert kerning.kern_value(84, 80) == 0  # the usual gap: nothing to do
    assert kerning.kern_value(float("inf"), 80) == 0


def test_pair_gap_uses_facing_bands() -> None:
    bands = len(kerning.BANDS)
    tall = (np.full(bands, 40.0), np.full(bands, 40.0))
    low_left, low_right = np.full(bands, np.nan), np.full(bands, np.nan)
    low_left[6:10], low_right[6:10] = 300.0, 40.0
    assert kerning.pair_gap(tall, tall) == 80
    assert kerning.pair_gap(tall, (low_left, low_right)) == 340


def test_size_model_corrects_a_generator_only_when_groups_compare() -> None:
    written = {hangul.compose(i, m, 0): float(np.exp(0.1 * m - 1.0)) for m in range(21) for i in range(2)}
    generated = {hangul.compose(i, m, 0): float(np.exp(0.02 * m)) for m in range(21) for i in range(2, 6)}
    model = size_model(written, generated)
    assert model.stretch == STRETCH_LIMITS[1]  # 5x squeezed: stretched as far as allowed
    few = {hangul.compose(0, m, 0): 1.0 for m in range(3)}
    assert size_model(few, few).stretch == 1.0  # too few groups in common: no correction
    assert size_model(written, generated).kept(0.01, written=True) == model.band[0]


def test_hand_facts_round_trip_and_a_bad_file_reads_as_none(tmp_path: Path) -> None:
    assert load_hand(tmp_path) == (None, None)
    save_hand(tmp_path, {0xAC01, 0xAC00}, 0.62)
    assert load_hand(tmp_path) == ({0xAC00, 0xAC01}, 0.62)
    (tmp_path / HAND_FILE).write_text("{not json", encoding="utf-8")
    assert load_hand(tmp_path) == (None, None)
    with pytest.raises(ValueError, match="positive"):
        save_hand(tmp_path, set(), 0.0)


def test_calt_rules_cycle_back_to_the_plain_glyph() -> None:
    code = calt_feature({0xD558: 2, 0xAC00: 0})
    assert "sub uniD558 uniD558' by uniD558.alt1;" in code
    assert "sub uniD558.alt1 uniD558' by uniD558.alt2;" in code
    assert "uniD558.alt2 uniD558'" not in code and "uniAC00" not in code  # alt2 is followed by the plain one
    assert calt_feature({}) == ""


def test_measured_spacing_is_kept_with_the_hand_facts(tmp_path: Path) -> None:
    from services.packaging.hand import load_spacing

    save_hand(tmp_path, {0xAC00}, 0.62)
    assert load_spacing(tmp_path) is None  # not measured: the default spacing
    save_hand(tmp_path, {0xAC00}, 0.62, {"gap": 0.2, "space": 0.66})
    assert load_spacing(tmp_path) == {"gap": 0.2, "space": 0.66}
    assert load_hand(tmp_path) == ({0xAC00}, 0.62)
