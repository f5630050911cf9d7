"""Closed counters: holes of ㅇ and ㅎ counted in drawn syllables."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.counters import expected_holes, holes, short_of_holes


def glyph(ring: bool, filled_dot: bool = False) -> np.ndarray:
    """A 128 px glyph with a vertical bar and either an open ring (ㅇ), a filled dot, or neither."""
    image = np.full((128, 128), 255, np.uint8)
    image[20:108, 90:98] = 0
    if ring:
        cv2.circle(image, (45, 64), 22, 0, thickness=8)
    if filled_dot:
        cv2.circle(image, (45, 64), 22, 0, thickness=-1)
    return image


@pytest.mark.parametrize(
    ("syllable", "expected"),
    [("가", 0), ("아", 1), ("하", 1), ("앙", 2), ("않", 2), ("싫", 1), ("앓", 2), ("핥", 1), ("뷁", 0)],
)
def test_each_round_jamo_needs_one_hole(syllable: str, expected: int) -> None:
    assert expected_holes(ord(syllable)) == expected


def test_a_ring_encloses_a_hole_and_a_dot_does_not() -> None:
    assert holes(glyph(ring=True)) == 1
    assert holes(glyph(ring=False, filled_dot=True)) == 0
    assert holes(glyph(ring=False)) == 0


def test_the_share_counts_only_syllables_that_need_a_hole() -> None:
    ring, dot = glyph(ring=True), glyph(ring=False, filled_dot=True)
    cps = [ord("아"), ord("이"), ord("가"), ord("나")]
    # 이 lost its hole; 가 and 나 need none, so they do not count
    assert short_of_holes([ring, dot, dot, dot], cps) == pytest.approx(0.5)
    assert short_of_holes([ring, ring, dot, dot], cps) == 0.0
    assert short_of_holes([dot, dot], [ord("가"), ord("나")]) == 0.0
