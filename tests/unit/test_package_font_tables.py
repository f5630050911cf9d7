"""Font tables: names, metrics that cover the outlines, OS/2 bits, cmap, determinism, WOFF2 packing."""

from __future__ import annotations

import io

import pytest
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph

from services.packaging.font_tables import (
    ASCENDER,
    DESCENDER,
    build_font,
    check_family_name,
    glyph_name,
    postscript_name,
)
from services.packaging.woff2 import _base128, encode_woff2


def box(x0: int, y0: int, x1: int, y1: int) -> Glyph:
    pen = TTGlyphPen(None)
    pen.moveTo((x0, y0))
    pen.lineTo((x0, y1))
    pen.lineTo((x1, y1))
    pen.lineTo((x1, y0))
    pen.closePath()
    return pen.glyph()


def small_font(family: str = "Hong Gildong", tall: int = 780) -> TTFont:
    glyphs = {
        0xAC00: (box(80, -60, 920, tall), 1000),
        0xD7A3: (box(100, -40, 900, 760), 1000),
        ord("H"): (box(60, 0, 400, 700), 460),
        ord("x"): (box(60, 0, 360, 480), 420),
        ord("g"): (box(60, -250, 360, 480), 420),
    }
    return TTFont(io.BytesIO(build_font(glyphs, family)))


def test_names_in_english_and_korean() -> None:
    font = small_font("홍길동 손글씨")
    name = font["name"]
    assert name.getName(1, 3, 1, 0x409).toUnicode() == "홍길동 손글씨"
    assert name.getName(1, 3, 1, 0x412).toUnicode() == "홍길동 손글씨"
    assert name.getName(4, 3, 1, 0x412).toUnicode() == "홍길동 손글씨 Regular"
    ps = name.getName(6, 3, 1, 0x409).toUnicode()
    assert ps.isascii() and ps.endswith("-Regular") and " " not in ps
    assert name.getName(3, 3, 1, 0x409).toUnicode().endswith(ps)


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("Hong Gildong", "HongGildong-Regular"),
        ("Café Script 2", "CafeScript2-Regular"),
        ("a/b(c)", "abc-Regular"),
    ],
)
def test_postscript_names_are_sanitised(family: str, expected: str) -> None:
    assert postscript_name(family) == expected


def test_hangul_only_names_get_a_stable_distinct_postscript_name() -> None:
    a, b = postscript_name("홍길동"), postscript_name("김철수")
    assert a != b and a == postscript_name("홍길동")
    assert a.startswith("Geulssi") and a.isascii()
    assert len(postscript_name("x" * 63)) <= 63


@pytest.mark.parametrize("bad", ["", "   ", "x" * 64, "bell\x07ring", "zero\u200bwidth"])
def test_bad_family_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="name"):
        check_family_name(bad)


def test_vertical_metrics_cover_the_outlines() -> None:
    font = small_font(tall=1100)
    os2, hhea, head = font["OS/2"], font["hhea"], font["head"]
    assert head.yMax == 1100 and head.yMin == -250
    assert hhea.ascent == os2.sTypoAscender == os2.usWinAscent == 1100
    assert hhea.descent == os2.sTypoDescender == -os2.usWinDescent == min(DESCENDER, -250)
    assert hhea.lineGap == os2.sTypoLineGap == 0
    assert os2.fsSelection & (1 << 7)  # USE_TYPO_METRICS: one line height on every platform


def test_design_metrics_apply_when_outlines_stay_inside() -> None:
    font = small_font(tall=700)
    assert font["hhea"].ascent == ASCENDER and font["OS/2"].usWinAscent == ASCENDER


def test_os2_declares_korean_and_latin() -> None:
    os2 = small_font()["OS/2"]
    assert os2.usWeightClass == 400 and os2.fsType == 0
    assert os2.ulCodePageRange1 & (1 << 19)  # Korean Wansung
    assert os2.ulUnicodeRange1 & 1  # Basic Latin
    assert os2.ulUnicodeRange2 & (1 << (56 - 32))  # Hangul Syllables
    assert os2.sCapHeight == 700 and os2.sxHeight == 480
    assert os2.achVendID == "GEUL"


def test_cmap_glyph_order_and_blanks() -> None:
    font = small_font()
    cmap = font.getBestCmap()
    assert cmap[0xAC00] == "uniAC00" and cmap[ord("H")] == "H" and cmap[0x20] == "space"
    assert cmap[0xA0] == glyph_name(0xA0)
    assert font.getGlyphOrder()[0] == ".notdef"
    assert font["hmtx"]["space"][0] > 0 and font["glyf"]["space"].numberOfContours == 0
    assert font["post"].formatType == 3.0
    assert {t.format for t in font["cmap"].tables} == {4}


def test_same_glyphs_give_the_same_bytes() -> None:
    glyphs = {0xAC00: (box(80, -60, 920, 780), 1000)}
    assert build_font(glyphs, "Same") == build_font(dict(glyphs), "Same")


def test_an_empty_glyph_set_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one glyph"):
        build_font({}, "Empty")


def test_woff2_holds_exactly_the_ttf_tables() -> None:
    ttf = build_font({0xAC00: (box(80, -60, 920, 780), 1000)}, "Packed")
    woff2 = encode_woff2(ttf)
    assert woff2[:4] == b"wOF2" and len(woff2) % 4 == 0
    plain, packed = TTFont(io.BytesIO(ttf)), TTFont(io.BytesIO(woff2))
    assert packed.flavor == "woff2"
    assert sorted(plain.reader.keys()) == sorted(packed.reader.keys())
    for tag in plain.reader.keys():  # noqa: SIM118 - a SFNTReader is not a dict
        assert packed.reader[tag] == plain.reader[tag], tag
    assert encode_woff2(ttf) == woff2


def test_woff2_refuses_non_truetype_bytes() -> None:
    with pytest.raises(ValueError, match="TrueType"):
        encode_woff2(b"OTTO" + bytes(20))


@pytest.mark.parametrize(
    ("value", "encoded"), [(0, b"\x00"), (127, b"\x7f"), (128, b"\x81\x00"), (16383, b"\xff\x7f")]
)
def test_uint_base128(value: int, encoded: bytes) -> None:
    assert _base128(value) == encoded
