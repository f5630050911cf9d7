"""The full glyph set (11,172 syllables + 94 Latin, drawn from Nanum Pen): every character, the 51 jamo,
kerning, under 4 MB."""

from __future__ import annotations

import os
from pathlib import Path

import ots
import pytest
from fontTools.ttLib import TTFont

from bench.package import CACHE, glyph_set
from services.packaging.package import package_font
from tests.fixtures.package.make_fixtures import FONT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("GEULSSI_SLOW"), reason="slow: set GEULSSI_SLOW=1"),
    pytest.mark.skipif(not FONT.exists(), reason=f"{FONT} is not installed"),
]
MAX_TTF_BYTES = 4_000_000


def test_all_syllables_fit_in_four_megabytes(tmp_path: Path) -> None:
    glyphs = glyph_set(FONT, CACHE)  # rendered once (~2.5 min), then reused
    report = package_font(glyphs, tmp_path / "Full-Regular.ttf", "Geulssi Full")
    assert report.broken == () and report.missing == ()
    assert report.hangul_count == 11172 and report.latin_count == 94 and report.jamo_count == 51
    assert report.coverage == () and report.drawn == ()  # everything written: nothing lacking or drawn
    assert report.ttf.stat().st_size <= MAX_TTF_BYTES
    assert report.woff2.stat().st_size < report.ttf.stat().st_size
    font = TTFont(report.ttf)
    cmap = font.getBestCmap()
    assert all(cp in cmap for cp in range(0xAC00, 0xD7A4)) and all(cp in cmap for cp in range(0x3131, 0x3164))
    assert "GPOS" in font  # pair kerning, Hangul against Latin included
    result = ots.sanitize(str(report.ttf), str(tmp_path / "clean.ttf"), capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
