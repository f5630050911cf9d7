"""The writing line: its ink is told from the printed baseline, and the writer's spacing is recovered."""

from __future__ import annotations

import numpy as np
import pytest

from services.extraction.writing_line import estimate_spacing, line_mask

PHRASE = "우주를 보는"
SYLLABLES = [ch for ch in PHRASE if ch != " "]
# Ink width and height (box pixels) of each syllable as written in its writing box.
SIZES = {"우": (110, 130), "주": (120, 140), "를": (115, 150), "보": (105, 135), "는": (118, 125)}


def _glyph(width: int, height: int, size: tuple[int, int]) -> np.ndarray:
    """A hollow rectangle of ink (a stand-in syllable) of width x height in a white image of `size`."""
    image = np.full(size, 255, np.uint8)
    top, left = (size[0] - height) // 2, (size[1] - width) // 2
    image[top:top + height, left:left + width] = 0
    image[top + 8:top + height - 8, left + 8:left + width - 8] = 255
    return image


OTHERS = (140, 150, 160, 150, 145, 150)  # ink heights of other written syllables (20 px narrower)
# The unit of the result: the median ink extent, max(width, height), of all written syllables.
MEDIAN_EXTENT = float(np.median([max(w, h) for w, h in SIZES.values()] + list(OTHERS)))


def _boxes() -> dict[str, np.ndarray]:
    boxes = {ch: _glyph(w, h, (200, 200)) for ch, (w, h) in SIZES.items()}
    for i, extent in enumerate(OTHERS):
        boxes[chr(0xAC00 + i)] = _glyph(extent - 20, extent, (200, 200))
    return boxes


def _line(scale: float, gap: float, space: float, gaps: list[float] | None = None) -> np.ndarray:
    """The ink mask of the phrase written at `scale` of the boxes, `gap` and `space` apart (pixels);
    `gaps` gives each gap between neighbours instead."""
    after = len(PHRASE.split()[0]) - 1
    gaps = gaps or [gap + (space if i == after else 0) for i in range(len(SYLLABLES) - 1)]
    mask = np.zeros((160, 1200), bool)
    x = 30.0
    for ch, step in zip(SYLLABLES, [*gaps, 0], strict=True):
        w, h = (round(v * scale) for v in SIZES[ch])
        top = 140 - h
        mask[top:top + h, round(x):round(x) + w] |= _glyph(w, h, (h, w)) < 128
        x += w + step
    return mask


@pytest.mark.parametrize(("gap", "space"), [(0.075, 0.325), (0.2, 0.66), (0.03, 0.4)])
def test_a_known_spacing_is_recovered(gap: float, space: float) -> None:
    scale = 0.7
    unit = scale * MEDIAN_EXTENT
    got = estimate_spacing(_line(scale, gap * unit, space * unit), PHRASE, _boxes())
    assert got["status"] == "measured"
    assert got["gap"] == pytest.approx(gap, abs=0.01)
    assert got["space"] == pytest.approx(space, abs=0.015)


def test_an_empty_line_is_reported_not_written() -> None:
    got = estimate_spacing(np.zeros((160, 1200), bool), PHRASE, _boxes())
    assert got["status"] == "not written"
    assert "gap" not in got and "default spacing" in got["message"]


def test_a_line_without_the_space_between_the_words_is_implausible() -> None:
    # Written with no space, and the widest gap elsewhere: not the phrase as asked, so not used.
    got = estimate_spacing(_line(0.7, 0, 0, gaps=[10, 60, 12, 11]), PHRASE, _boxes())
    assert got["status"] == "implausible"


def test_too_few_boxes_leave_the_line_unread() -> None:
    boxes = {ch: im for ch, im in _boxes().items() if ch not in "우주를"}
    assert estimate_spacing(_line(0.7, 10, 40), PHRASE, boxes)["status"] == "unreadable"


def test_the_printed_baseline_is_not_ink() -> None:
    darkness = np.zeros((160, 1200), np.uint8)
    darkness[115:117, :] = 80  # the light-blue guide across the whole strip
    darkness[40:120, 300:306] = 200  # one pen stroke crossing it
    mask = line_mask(darkness)
    assert mask[60, 302] and mask[116, 303]
    assert not mask[115:117, :290].any() and not mask[115:117, 320:].any()
