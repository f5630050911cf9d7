"""Redrawing marked syllables with the committed generator (no fine-tune): a new drawing that passes the
repair check each time it is asked for, and a clear sentence for what cannot be redrawn."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import models
from models import glyph_space
from models.glyph_files import glyph_filename, write_png
from models.repair import glyph_problem
from services.pipeline.redraw import check_marked, redraw_syllables

MARKED = 0xBDC1  # 뷁


def read(glyph_dir: Path, cp: int) -> np.ndarray:
    image = cv2.imread(str(glyph_dir / glyph_filename(cp)), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def test_a_marked_syllable_is_redrawn_differently_each_time(tmp_path: Path) -> None:
    weights = models.weights_path()
    if not weights.is_file():
        pytest.skip("the committed generator weights are not present")
    blot = np.zeros((128, 128), np.uint8)  # what the writer marked: a blot
    write_png(tmp_path / glyph_filename(MARKED), blot)
    write_png(tmp_path / f"U+{MARKED:04X}.alt1.png", blot)  # calt variations of the marked drawing
    first = redraw_syllables(tmp_path, weights, weights, [MARKED], device="cpu")
    drawn = read(tmp_path, MARKED)
    assert not list(tmp_path.glob("*.alt*.png"))  # they went with it
    assert first[MARKED].startswith("another style") and not np.array_equal(drawn, blot)
    assert glyph_problem(drawn, glyph_space.TARGET_EXTENT) is None  # no blot, no blank, a sane size
    second = redraw_syllables(tmp_path, weights, weights, [MARKED], attempt=1, device="cpu")
    again = read(tmp_path, MARKED)
    assert np.abs(again.astype(int) - drawn.astype(int)).mean() >= 1.0, (first, second)


@pytest.mark.parametrize(
    ("codepoints", "words"),
    [
        ([], "mark at least one"),
        ([0x41], r"U\+0041 is not one"),
        (list(range(0xAC00, 0xAC00 + 201)), "at most 200"),
    ],
)
def test_what_cannot_be_redrawn_is_refused_with_a_sentence(codepoints: list[int], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_marked(codepoints)
