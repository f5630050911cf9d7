"""The text-level evaluation: measuring a font in running text, and its section in QUALITY.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.packaging.text_eval import SECTION_END, SECTION_START, measure, write_section

NANUM_PEN = Path("/usr/share/fonts/truetype/nanum/NanumPen.ttf")


def test_the_section_replaces_its_old_self_and_keeps_the_rest(tmp_path: Path) -> None:
    doc = tmp_path / "QUALITY.md"
    doc.write_text("# Quality\n\ngenerator table\n", encoding="utf-8")
    write_section(doc, f"{SECTION_START}\nfirst\n{SECTION_END}")
    write_section(doc, f"{SECTION_START}\nsecond\n{SECTION_END}")
    text = doc.read_text(encoding="utf-8")
    assert "generator table" in text and "second" in text and "first" not in text
    assert text.count(SECTION_START) == 1


@pytest.mark.skipif(not NANUM_PEN.is_file(), reason="fonts-nanum is not installed")
def test_measure_reads_spacing_sizes_and_latin_proportions() -> None:
    figures = measure(NANUM_PEN)
    wide = measure(NANUM_PEN, "가 나 다 라 마 바 사 아 자 차")  # spaces between: more advance per height
    narrow = measure(NANUM_PEN, "가나다라마바사아자차")
    assert wide.advance_over_height > narrow.advance_over_height
    assert 0.05 < figures.height_cv < 0.5
    assert figures.x_over_cap is not None and 0.5 < figures.x_over_cap < 1.0
