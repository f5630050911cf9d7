"""Shaping through HarfBuzz: proportional Hangul, kerning from the outlines, the 51 jamo, drawn marks.

The font is built from a pretraining handwriting font (Nanum Pen Script) written into template boxes,
as `services.packaging.text_eval` does for the held-out fonts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import ots
import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from models import glyph_space
from services.packaging.jamo import JAMO, source_syllables
from services.packaging.package import PackageReport, package_font
from services.packaging.text_eval import eval_glyph_dir

NANUM_PEN = Path("/usr/share/fonts/truetype/nanum/NanumPen.ttf")
NANUM_BRUSH = Path("/usr/share/fonts/truetype/nanum/NanumBrush.ttf")
pytestmark = pytest.mark.skipif(not NANUM_BRUSH.is_file(), reason="fonts-nanum is not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> PackageReport:
    work = tmp_path_factory.mktemp("shaping")
    sources = {s for cp in JAMO for s, _ in source_syllables(cp)}
    written, scale = eval_glyph_dir(NANUM_PEN, work / "glyphs", extra=sources)
    for cp in (ord("."), ord("?")):  # as if the writer's period and question mark were smudged
        (work / "glyphs" / f"U+{cp:04X}.png").unlink()
    # Stand-ins for the generator's alternates of 하 and 키: the same syllables from another hand.
    for k, path in enumerate((NANUM_BRUSH, NANUM_PEN), 1):
        font = ImageFont.truetype(str(path), 150 + 10 * k)
        for ch in "하키":
            box = Image.new("L", (200, 200), 255)
            ImageDraw.Draw(box).text((100, 100), ch, font=font, fill=0, anchor="mm")
            canonical = glyph_space.to_canonical(np.asarray(box), scale)
            Image.fromarray(canonical).save(work / "glyphs" / f"U+{ord(ch):04X}.alt{k}.png")
    return package_font(
        work / "glyphs", work / "pen.ttf", "Pen Test", written=written, hangul_box_scale=scale
    )


def glyph_ids(report: PackageReport, text: str, **features: bool) -> list[int]:
    font = hb.Font(hb.Face(report.ttf.read_bytes()))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, features)
    return [info.codepoint for info in buffer.glyph_infos]


def advances(report: PackageReport, text: str, **features: bool) -> list[int]:
    font = hb.Font(hb.Face(report.ttf.read_bytes()))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, features)
    return [pos.x_advance for pos in buffer.glyph_positions]


def test_kerning_changes_the_advances_of_known_pairs(built: PackageReport) -> None:
    for pair in ("To", "LT", "AV"):
        kerned, plain = advances(built, pair, kern=True), advances(built, pair, kern=False)
        assert kerned[0] < plain[0], pair  # pulled together
    assert advances(built, "HH", kern=True) == advances(built, "HH", kern=False)  # upright stems: no kern
    # Hangul against Latin and punctuation, through the Hangul class: a T's bar overhangs, a period is low.
    mixed = ("가T", "T가", "가.", '"가')
    assert any(advances(built, p, kern=True) != advances(built, p, kern=False) for p in mixed)


def test_hangul_advances_are_proportional(built: PackageReport) -> None:
    widths = advances(built, "이가나다함께")
    assert len(set(widths)) > 3 and advances(built, "이")[0] < 0.75 * advances(built, "함")[0]


def test_the_51_jamo_map_to_drawn_glyphs(built: PackageReport) -> None:
    font = TTFont(built.ttf)
    cmap, glyf = font.getBestCmap(), font["glyf"]
    assert all(cp in cmap and glyf[cmap[cp]].numberOfContours > 0 for cp in JAMO)
    assert built.jamo_count == 51
    infos = hb.Buffer()
    infos.add_str("ㅋㅋㅎㅎㅠㅠ")
    infos.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(built.ttf.read_bytes())), infos, {})
    assert all(info.codepoint != 0 for info in infos.glyph_infos)  # no .notdef


def test_smudged_punctuation_is_drawn_and_named_in_the_notes(built: PackageReport) -> None:
    assert set(built.drawn) == {ord("."), ord("?")}
    assert {m.char for m in built.coverage if m.fallback == "drawn"} == {".", "?"}
    description = TTFont(built.ttf)["name"].getDebugName(10)
    assert description is not None and "drawn as simple marks" in description and ". ?" in description


def test_calt_cycles_through_the_alternates_of_a_repeated_syllable(built: PackageReport) -> None:
    ids = glyph_ids(built, "하하하하하", calt=True)
    assert ids[0] == ids[3] and len({ids[0], ids[1], ids[2]}) == 3 and ids[4] == ids[1]
    assert len(set(glyph_ids(built, "하하하", calt=False))) == 1
    jamo = glyph_ids(built, "ㅋㅋㅋ", calt=True)  # cut from the alternates of 키
    assert len(set(jamo)) == 3
    assert len(set(glyph_ids(built, "가가가", calt=True))) == 1  # no alternates: no change
    widths = advances(built, "하하하", calt=True)  # alternates sit like the glyph they vary
    assert max(widths) < 1.3 * min(widths)
    assert built.alternates == 6


def test_without_variants_the_alternates_stay_out(built: PackageReport, tmp_path: Path) -> None:
    glyph_dir = built.ttf.parent / "glyphs"
    plain = package_font(glyph_dir, tmp_path / "plain.ttf", "Pen Test", variants=False)
    assert plain.alternates == 0 and "GSUB" not in TTFont(plain.ttf)
    assert len(set(glyph_ids(plain, "하하하", calt=True))) == 1


def test_the_font_passes_the_sanitizer(built: PackageReport, tmp_path: Path) -> None:
    result = ots.sanitize(str(built.ttf), str(tmp_path / "out.ttf"), capture_output=True)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
