"""Tests for models.readability: Tesseract batches, the broken share and the paragraph's CER."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from models import glyph_space, hangul, readability
from models.fonts import FontFace, canonical_set

GOTHIC = FontFace("NanumGothic Regular", Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"))
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
COMMON = "가나다라마바사아자차카타파하국물빛"


@pytest.fixture(scope="module")
def paragraph_glyphs() -> dict[int, np.ndarray]:
    """The paragraph's syllables in a plain print font (Tesseract's best case), canonical 128x128."""
    glyphs, _ = canonical_set(GOTHIC, readability.paragraph_codepoints() + [ord(c) for c in COMMON])
    return glyphs


def test_paragraph_is_ordinary_korean_prose() -> None:
    words = readability.paragraph_words()
    syllables = "".join(words)
    assert 120 <= len(syllables) <= 200
    assert all(hangul.in_ksx1001(ord(c)) for c in syllables)  # every held-out font can set it
    assert len(words) > 30 and "." not in syllables
    assert readability.paragraph_codepoints() == sorted({ord(c) for c in syllables})


def test_lines_are_spaced_by_ink_width() -> None:
    narrow = np.full((128, 128), 255, np.uint8)
    narrow[20:100, 60:68] = 0
    wide = np.full((128, 128), 255, np.uint8)
    wide[20:100, 20:108] = 0
    px, m = readability.LINE_PX, readability.LINE_MARGIN
    (line_narrow,) = readability.set_paragraph({ord("이"): narrow}, ["이이"])
    (line_wide,) = readability.set_paragraph({ord("이"): wide}, ["이이"])
    assert line_narrow.shape[0] == line_wide.shape[0] == px + 2 * m
    assert line_narrow.shape[1] < line_wide.shape[1]
    ink = np.flatnonzero((line_narrow < glyph_space.INK_THRESHOLD).any(axis=0))
    assert ink[-1] - ink[0] + 1 < px  # two narrow strokes sit close together, not one em apart
    with pytest.raises(KeyError):
        readability.set_paragraph({ord("이"): narrow}, ["이가"])


def test_paragraph_wraps_into_lines(paragraph_glyphs: dict[int, np.ndarray]) -> None:
    lines = readability.set_paragraph(paragraph_glyphs, readability.paragraph_words())
    limit = readability.LINE_WIDTH * readability.LINE_PX + 2 * readability.LINE_MARGIN
    assert len(lines) >= 5 and all(line.shape[1] <= limit for line in lines)


@needs_tesseract
def test_batched_reads_keep_image_order(paragraph_glyphs: dict[int, np.ndarray]) -> None:
    glyphs = [paragraph_glyphs[ord(c)] for c in COMMON]
    reads = readability.read_syllables(glyphs)
    assert len(reads) == len(COMMON)
    assert sum(r == c for r, c in zip(reads, COMMON, strict=True)) >= len(COMMON) - 3


@needs_tesseract
def test_broken_share_of_true_blank_and_garbled_fonts(paragraph_glyphs: dict[int, np.ndarray]) -> None:
    cps = [ord(c) for c in COMMON]
    truth = np.stack([paragraph_glyphs[cp] for cp in cps])
    blank = np.full_like(truth, 255)
    garbled = np.roll(truth, 1, axis=0)  # every syllable drawn as its neighbour
    shares = readability.broken_shares(truth, {"same": truth.copy(), "blank": blank, "garbled": garbled}, cps)
    assert shares["same"].readable >= len(cps) - 3
    assert shares["same"].share == 0.0 and shares["same"].broken == []
    assert shares["blank"].share == 1.0
    assert shares["garbled"].share >= 0.9
    assert set(shares["garbled"].misread_as) == set(shares["garbled"].broken)
    with pytest.raises(ValueError, match="one glyph per codepoint"):
        readability.broken_shares(truth, {"short": truth[:-1]}, cps)


@needs_tesseract
def test_sentence_cer_ranks_true_blank_and_garbled(paragraph_glyphs: dict[int, np.ndarray]) -> None:
    cps = sorted(paragraph_glyphs)
    garbled = {cp: paragraph_glyphs[cps[(i + 7) % len(cps)]] for i, cp in enumerate(cps)}
    blank = dict.fromkeys(cps, np.full((128, 128), 255, np.uint8))
    result = readability.sentence_cers({"print": paragraph_glyphs, "garbled": garbled, "blank": blank})
    assert result["print"][0] < 0.1
    assert result["garbled"][0] > 0.7
    assert result["blank"][0] >= 0.95
    assert "아침" in result["print"][1]
