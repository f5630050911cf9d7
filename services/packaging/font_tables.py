"""Builds the font's tables (fontTools FontBuilder) and compiles them to deterministic TTF and WOFF2 bytes.

Every table is derived from the glyphs and the family name only: timestamps are a constant, the glyph
order is sorted by code point, so the same glyphs give the same bytes. Nothing from any training font
is used.

    >>> ttf = build_font({0xAC00: (glyph, 1000)}, "Hong Gildong")   # bytes of a .ttf
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping

from fontTools.agl import UV2AGL
from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampFromString
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph

from services.packaging.normalize import SPACE_ADVANCE, UNITS_PER_EM

VERSION = 1.0
VENDOR_ID = "GEUL"
# A fixed date (not "now"): rebuilding the same glyphs must give byte-identical files.
TIMESTAMP = timestampFromString("Mon Jan  1 00:00:00 2024")
ASCENDER = 880  # design line: the metrics grow past these only if an outline reaches further
DESCENDER = -220
CAP_HEIGHT, X_HEIGHT = 700, 500  # OS/2 defaults when H or x was not written
NOTDEF_ADVANCE = 500
MAX_NAME_LENGTH = 63
DESCRIPTION = "Handwriting font made with geulssi."
LANGUAGE_SYSTEMS = "languagesystem DFLT dflt;\nlanguagesystem hang dflt;\nlanguagesystem latn dflt;\n"
KOREAN = 0x0412  # Windows language id for Korean (name table)
CODE_PAGE_LATIN1, CODE_PAGE_KOREAN_WANSUNG = 0, 19  # OS/2 ulCodePageRange1 bits


def check_family_name(family: str) -> str:
    """Return the family name stripped, or raise ValueError if it cannot name a font."""
    name = " ".join(family.split())
    if not name:
        raise ValueError("the font needs a name: --name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the font name is {len(name)} characters long; keep it to {MAX_NAME_LENGTH}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise ValueError("the font name contains control or unassigned characters")
    return name


def postscript_name(family: str) -> str:
    """Return an ASCII PostScript name ("FamilyName-Regular", at most 63 characters) for `family`.

    Names with no ASCII letters or digits (e.g. all Hangul) get "Geulssi" plus a hash of the name,
    which keeps different families apart and is stable from run to run.
    """
    ascii_name = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9]", "", ascii_name)
    if not stem:
        stem = "Geulssi" + hashlib.sha1(family.encode()).hexdigest()[:8]
    return f"{stem[: MAX_NAME_LENGTH - len('-Regular')]}-Regular"


def glyph_name(codepoint: int) -> str:
    """Return the glyph name for a code point: AGL names for ASCII ("A", "period"), else "uniXXXX"."""
    if codepoint == 0x20:
        return "space"
    if codepoint < 0x80 and codepoint in UV2AGL:
        return UV2AGL[codepoint]
    return f"uni{codepoint:04X}"


def _notdef() -> Glyph:
    """Return the .notdef glyph: an open rectangle."""
    pen = TTGlyphPen(None)
    for box, clockwise in (((50, 0, 450, 700), True), ((100, 50, 400, 650), False)):
        x0, y0, x1, y1 = box
        corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
        if not clockwise:
            corners.reverse()
        pen.moveTo(corners[0])
        for point in corners[1:]:
            pen.lineTo(point)
        pen.closePath()
    return pen.glyph()


def build_font(
    glyphs: Mapping[int, tuple[Glyph, int]],
    family: str,
    *,
    notes: str = DESCRIPTION,
    features: str = "",
    unmapped: Mapping[str, tuple[Glyph, int]] | None = None,
) -> bytes:
    """Return the TTF bytes of a font with `glyphs` ({code point: (glyph, advance)}) named `family`.

    Space (U+0020) and no-break space (U+00A0) are added when absent. `notes` becomes the name table's
    description; `features` is OpenType feature code (kerning, contextual alternates) compiled into
    GPOS/GSUB for every script; `unmapped` holds glyphs without a code point ({name: (glyph, advance)},
    e.g. alternates), placed after the mapped ones. Raises ValueError for a bad name or an empty glyph set.
    """
    family = check_family_name(family)
    if not glyphs:
        raise ValueError("a font needs at least one glyph")
    entries = dict(glyphs)
    for blank in (0x20, 0xA0):
        entries.setdefault(blank, (TTGlyphPen(None).glyph(), SPACE_ADVANCE))
    cmap = {cp: glyph_name(cp) for cp in sorted(entries)}
    extra = dict(sorted((unmapped or {}).items()))
    order = [".notdef", *cmap.values(), *extra]
    outlines = {".notdef": _notdef(), **{cmap[cp]: entries[cp][0] for cp in cmap}}
    advances = {".notdef": NOTDEF_ADVANCE, **{cmap[cp]: entries[cp][1] for cp in cmap}}
    outlines.update({name: glyph for name, (glyph, _) in extra.items()})
    advances.update({name: advance for name, (_, advance) in extra.items()})

    fb = FontBuilder(UNITS_PER_EM, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(cmap)
    fb.setupGlyf(outlines)
    glyf = fb.font["glyf"]
    fb.setupHorizontalMetrics({n: (advances[n], getattr(glyf[n], "xMin", 0)) for n in order})
    y_max = max((getattr(glyf[n], "yMax", 0) for n in order), default=0)
    y_min = min((getattr(glyf[n], "yMin", 0) for n in order), default=0)
    # One set of vertical metrics for every platform, wide enough that nothing is clipped.
    ascender, descender = max(ASCENDER, y_max), min(DESCENDER, y_min)
    fb.setupHorizontalHeader(ascent=ascender, descent=descender, lineGap=0)
    ps_name = postscript_name(family)
    full_name = f"{family} Regular"
    fb.setupNameTable(
        {
            "familyName": {"en": family, "ko": family},
            "styleName": "Regular",
            "uniqueFontIdentifier": f"{VERSION:.3f};{VENDOR_ID};{ps_name}",
            "fullName": {"en": full_name, "ko": full_name},
            "version": f"Version {VERSION:.3f}",
            "psName": ps_name,
            "description": notes,
        },
        mac=False,
    )
    fb.setupOS2(
        version=4,
        achVendID=VENDOR_ID,
        usWeightClass=400,
        usWidthClass=5,
        fsType=0,  # installable: it is the writer's own handwriting
        fsSelection=0x40 | 0x80,  # REGULAR | USE_TYPO_METRICS
        sTypoAscender=ascender,
        sTypoDescender=descender,
        sTypoLineGap=0,
        usWinAscent=max(ascender, 0),
        usWinDescent=max(-descender, 0),
        sxHeight=getattr(glyf[cmap[0x78]], "yMax", X_HEIGHT) if 0x78 in cmap else X_HEIGHT,
        sCapHeight=getattr(glyf[cmap[0x48]], "yMax", CAP_HEIGHT) if 0x48 in cmap else CAP_HEIGHT,
        usDefaultChar=0,
        usBreakChar=0x20,
        usMaxContext=0,
        ulCodePageRange1=(1 << CODE_PAGE_LATIN1) | (1 << CODE_PAGE_KOREAN_WANSUNG),
        ulCodePageRange2=0,
    )
    fb.font["OS/2"].recalcUnicodeRanges(fb.font)
    # Format 3: no glyph names stored (smaller; names of 11,172 syllables say nothing to anyone).
    fb.setupPost(keepGlyphNames=False, underlinePosition=-120, underlineThickness=50)
    fb.setupHead(unitsPerEm=UNITS_PER_EM, fontRevision=VERSION, created=TIMESTAMP, modified=TIMESTAMP)
    gasp = newTable("gasp")
    gasp.gaspRange = {0xFFFF: 0x000F}  # smooth and grid-fit at every size (there is no hinting)
    fb.font["gasp"] = gasp
    if features:
        addOpenTypeFeaturesFromString(fb.font, LANGUAGE_SYSTEMS + features)
    fb.font.recalcTimestamp = False  # keep `modified` at TIMESTAMP
    out = io.BytesIO()
    fb.font.save(out)
    return out.getvalue()
