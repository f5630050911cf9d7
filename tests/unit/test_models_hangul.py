"""Tests for models.hangul: compose/decompose, layouts and KS X 1001 membership."""

from __future__ import annotations

import pytest

from models import hangul


def test_round_trip_over_every_syllable() -> None:
    for cp in hangul.all_syllables():
        assert hangul.compose(*hangul.decompose(cp)) == cp


def test_counts() -> None:
    assert len(hangul.all_syllables()) == hangul.N_SYLLABLES == 11172
    assert len(hangul.ksx1001_syllables()) == 2350
    assert len(set(hangul.VERTICAL_MEDIALS | hangul.HORIZONTAL_MEDIALS | hangul.COMPOUND_MEDIALS)) == 21


def test_known_syllables() -> None:
    assert hangul.decompose(ord("한")) == (18, 0, 4)
    assert hangul.jamo(ord("글")) == "ㄱㅡㄹ"
    assert hangul.compose(0, 0) == ord("가")
    assert hangul.layout(ord("가")) is hangul.Layout.VERTICAL
    assert hangul.layout(ord("곰")) is hangul.Layout.HORIZONTAL_FINAL
    assert hangul.layout(ord("왕")) is hangul.Layout.COMPOUND_FINAL
    assert hangul.layout(ord("의")) is hangul.Layout.COMPOUND


def test_ksx1001_membership() -> None:
    assert hangul.in_ksx1001(ord("가"))
    assert not hangul.in_ksx1001(ord("똠"))  # the classic syllable missing from KS X 1001
    assert not hangul.in_ksx1001(ord("A"))


@pytest.mark.parametrize("bad", [0x41, hangul.FIRST - 1, hangul.LAST + 1])
def test_decompose_rejects_non_syllables(bad: int) -> None:
    with pytest.raises(ValueError, match="not a precomposed"):
        hangul.decompose(bad)


def test_compose_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        hangul.compose(19, 0)
