"""Broken generated syllables (blank, blot, absurd size, missing) are found and redrawn; good ones stay."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from models import WEIGHTS_FILE, checkpoints, fontset, glyph_space, hangul
from models.glyph_files import glyph_filename, write_png
from models.repair import SIZE_BAND, find_broken, glyph_problem, repair_generated
from models.source import source_glyphs

torch.set_num_threads(1)
pytestmark = pytest.mark.skipif(
    not (WEIGHTS_FILE.is_file() and fontset.SOURCE.local_path().is_file()),
    reason="needs the committed weights and fonts-noto-cjk",
)
CODEPOINTS = hangul.all_syllables()[:300:10]  # 30 syllables


@pytest.fixture
def glyph_dir(tmp_path: Path) -> Path:
    """30 good canonical syllables (the source font), three broken ones and one missing file."""
    _, meta = checkpoints.load_generator(WEIGHTS_FILE)
    for cp, image in zip(CODEPOINTS, source_glyphs(meta["source_font"], CODEPOINTS, 128), strict=True):
        write_png(tmp_path / glyph_filename(cp), image)
    good = cv2.imread(str(tmp_path / glyph_filename(CODEPOINTS[1])), cv2.IMREAD_GRAYSCALE)
    write_png(tmp_path / glyph_filename(CODEPOINTS[0]), np.full((128, 128), 255, np.uint8))  # blank
    blot = np.full((128, 128), 255, np.uint8)
    blot[4:124, 4:124] = 0
    write_png(tmp_path / glyph_filename(CODEPOINTS[1]), blot)
    tiny = cv2.resize(good, (12, 12), interpolation=cv2.INTER_AREA)
    small = np.full((128, 128), 255, np.uint8)
    small[58:70, 58:70] = tiny
    write_png(tmp_path / glyph_filename(CODEPOINTS[2]), small)
    (tmp_path / glyph_filename(CODEPOINTS[3])).unlink()
    return tmp_path


def test_glyph_problem_names_each_failure() -> None:
    blank = np.full((128, 128), 255, np.uint8)
    assert glyph_problem(blank, 96) == "no ink"
    grey = blank.copy()
    cv2.rectangle(grey, (20, 20), (110, 110), 150, 6)  # ink to the eye, too faint for the tracer
    assert "faint" in (glyph_problem(grey, 90) or "")
    dust = blank.copy()
    dust[20:110:6, 20:110:6] = 0  # dark, but only single pixels
    assert "faint" in (glyph_problem(dust, 90) or "")
    blot = np.zeros((128, 128), np.uint8)
    assert "covers" in (glyph_problem(blot, 96) or "")
    square = blank.copy()
    cv2.rectangle(square, (20, 20), (110, 110), 0, 6)
    assert glyph_problem(square, 90) is None
    assert "median" in (glyph_problem(square, 90 / (SIZE_BAND[0] * 0.9)) or "")
    assert "median" in (glyph_problem(square, 90 / (SIZE_BAND[1] * 1.1)) or "")


def test_find_broken_lists_exactly_the_broken(glyph_dir: Path) -> None:
    broken, typical = find_broken(glyph_dir, codepoints=CODEPOINTS)
    assert set(broken) == set(CODEPOINTS[:4])
    assert broken[CODEPOINTS[3]] == "missing"
    assert 60 < typical < 128
    assert set(find_broken(glyph_dir, skip={CODEPOINTS[0]}, codepoints=CODEPOINTS)[0]) == set(CODEPOINTS[1:4])


def test_repair_redraws_broken_and_keeps_good(glyph_dir: Path) -> None:
    before = {cp: (glyph_dir / glyph_filename(cp)).read_bytes() for cp in CODEPOINTS[4:]}
    done = repair_generated(glyph_dir, WEIGHTS_FILE, WEIGHTS_FILE, codepoints=CODEPOINTS, device="cpu")
    assert set(done) == set(CODEPOINTS[:4])
    assert all("fine-tuned generator's glyph" in how for how in done.values())
    assert find_broken(glyph_dir, codepoints=CODEPOINTS)[0] == {}
    for cp in CODEPOINTS[:4]:
        image = cv2.imread(str(glyph_dir / glyph_filename(cp)), cv2.IMREAD_GRAYSCALE)
        assert image.shape == (glyph_space.SIZE, glyph_space.SIZE)
    assert {cp: (glyph_dir / glyph_filename(cp)).read_bytes() for cp in CODEPOINTS[4:]} == before
    # Nothing left to repair: a second pass changes nothing.
    assert repair_generated(glyph_dir, WEIGHTS_FILE, WEIGHTS_FILE, codepoints=CODEPOINTS) == {}
