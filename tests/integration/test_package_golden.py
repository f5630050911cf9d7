"""Golden file: the TTX dump of a small font built from fixture glyphs must not change unnoticed.

Every table is compared, outlines included; only the fontTools version in the TTX header is ignored.
A legitimate change (new tracing parameters, a new table field, a new libpotrace / skia-pathops /
OpenCV) shows up here first; look at the diff, then regenerate the golden file:

    GEULSSI_REGEN_GOLDEN=1 python3 -m pytest tests/integration/test_package_golden.py
"""

from __future__ import annotations

import difflib
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from services.packaging.package import package_font

FIXTURES = Path(__file__).parents[1] / "fixtures" / "package"
GOLDEN = FIXTURES / "golden.ttx"
CHARS = "가앙H g."  # a plain syllable, one with holes, a capital, a descender, punctuation (and space)


def ttx_dump(ttf: Path) -> str:
    """Return the TTX text of a font without the line that names the fontTools version."""
    out = io.StringIO()
    TTFont(ttf).saveXML(out)
    return re.sub(r' ttLibVersion="[^"]*"', "", out.getvalue())


def test_tables_match_the_golden_ttx(tmp_path: Path) -> None:
    glyphs = tmp_path / "glyphs"
    glyphs.mkdir()
    for char in CHARS.replace(" ", ""):
        shutil.copy(FIXTURES / "glyphs" / f"U+{ord(char):04X}.png", glyphs)
    report = package_font(glyphs, tmp_path / "Golden-Regular.ttf", "Geulssi Golden")
    dump = ttx_dump(report.ttf)
    if os.environ.get("GEULSSI_REGEN_GOLDEN"):
        GOLDEN.write_text(dump, encoding="utf-8")
        pytest.skip(f"regenerated {GOLDEN}")
    expected = GOLDEN.read_text(encoding="utf-8")
    if dump != expected:
        lines = difflib.unified_diff(expected.splitlines(True), dump.splitlines(True), "golden", "built")
        diff = "".join(list(lines)[:80])
        pytest.fail(f"the font's tables differ from {GOLDEN.name}:\n{diff}")


def test_golden_font_has_the_expected_shape() -> None:
    """The committed golden file itself: the characters asked for, no timestamps that move."""
    golden = GOLDEN.read_text(encoding="utf-8")
    for char in CHARS:
        assert f'code="0x{ord(char):x}"' in golden
    assert re.search(r'<modified value="Mon Jan  1 00:00:00 2024"/>', golden)
    assert '<TTGlyph name="uniC559"' in golden  # 앙
