"""package_font on the fixture glyphs: a font OTS and fontbakery accept, which draws its inputs back."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import ots
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from services.packaging.normalize import is_hangul, place_hangul, place_latin
from services.packaging.package import PackageReport, load_glyph_image, package_font
from services.packaging.trace import trace_glyph
from tests.fixtures.package.raster import glyph_mask, image_mask, iou

GLYPHS = Path(__file__).parents[1] / "fixtures" / "package" / "glyphs"
FAMILY = "Geulssi Test"
MIN_IOU = 0.95
# fontbakery's opentype profile: checks that may SKIP because they do not apply to a static, glyf-based,
# single-style font without GDEF. Any other SKIP, and any WARN / FAIL / FATAL / ERROR, fails the test.
NOT_APPLICABLE = {
    "opentype/cff2_call_depth", "opentype/cff_ascii_strings", "opentype/cff_call_depth",
    "opentype/cff_deprecated_operators", "opentype/name/postscript_vs_cff",  # CFF fonts only
    "opentype/family/bold_italic_unique_for_nameid1",  # needs a family of Regular/Bold/Italic files
    "opentype/fvar/axis_ranges_correct", "opentype/fvar/regular_coords_correct", "opentype/slant_direction",
    "opentype/varfont/STAT_axis_record_for_each_axis", "opentype/varfont/distinct_instance_records",
    "opentype/varfont/family_axis_ranges", "opentype/varfont/foundry_defined_tag_name",
    "opentype/varfont/same_size_instance_records", "opentype/varfont/valid_default_instance_nameids",
    "opentype/varfont/valid_nameids", "opentype/weight_class_fvar",  # variable fonts only
    "opentype/gdef_mark_chars", "opentype/gdef_non_mark_chars", "opentype/gdef_spacing_marks",  # no GDEF
}  # fmt: skip
# Tolerated WARN: post format 3 (no glyph names) is what we want: every glyph maps 1:1 to a code point, so
# the niche the check describes (PDF text of non-default glyphs without a cmap) cannot arise, and names
# for 11,172 syllables would add ~110 KB.
TOLERATED = {"opentype/post_table_version": "WARN"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> PackageReport:
    # Named like its PostScript name so that fontbakery's style checks (fsSelection, macStyle) run.
    out = tmp_path_factory.mktemp("font") / "GeulssiTest-Regular.ttf"
    return package_font(GLYPHS, out, FAMILY)


def test_writes_ttf_woff2_and_preview(built: PackageReport) -> None:
    assert built.ttf.read_bytes()[:4] == b"\x00\x01\x00\x00"
    assert built.woff2.read_bytes()[:4] == b"wOF2"
    assert built.preview.name == "GeulssiTest-Regular-preview.png"
    assert Image.open(built.preview).format == "PNG"
    assert built.hangul_count == 12 and built.latin_count == 21
    assert built.broken == () and built.ignored == ()
    assert len(built.missing) == 11172 + 94 - 33
    assert not [p for p in built.ttf.parent.iterdir() if p.name.endswith(".tmp")]


def test_every_fixture_glyph_is_mapped(built: PackageReport) -> None:
    cmap = TTFont(built.ttf).getBestCmap()
    for path in GLYPHS.glob("U+*.png"):
        assert int(path.stem[2:], 16) in cmap, path.name


@pytest.mark.parametrize("which", ["ttf", "woff2"])
def test_ots_sanitizer_accepts_the_font(built: PackageReport, which: str, tmp_path: Path) -> None:
    result = ots.sanitize(str(getattr(built, which)), str(tmp_path / "out.ttf"), capture_output=True)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()


@pytest.mark.skipif(shutil.which("fontbakery") is None, reason="fontbakery is not installed")
def test_fontbakery_opentype_profile_passes(built: PackageReport, tmp_path: Path) -> None:
    config = tmp_path / "fontbakery.yaml"
    config.write_text("vendor_id: GEUL\n")  # our registered-for-nobody vendor id: check it is what we set
    report = tmp_path / "fontbakery.json"
    subprocess.run(
        [
            "fontbakery",
            "check-opentype",
            "--configuration",
            str(config),
            "--json",
            str(report),
            str(built.ttf),
        ],
        capture_output=True,
        timeout=600,
        check=False,  # the verdicts are in the JSON
    )
    checks = [check for section in json.loads(report.read_text())["sections"] for check in section["checks"]]
    results = {check["key"][1].split(":", 1)[1].rstrip(">"): check["result"] for check in checks}
    assert len(results) > 40
    bad = {cid: r for cid, r in results.items() if r not in ("PASS", "SKIP") and TOLERATED.get(cid) != r}
    assert bad == {}
    assert {cid for cid, r in results.items() if r == "SKIP"} <= NOT_APPLICABLE


def test_round_trip_outlines_match_the_input_bitmaps(built: PackageReport) -> None:
    """Every glyph, read back from the TTF and filled in its image's frame, covers the input's ink."""
    font = TTFont(built.ttf)
    glyf, cmap = font["glyf"], font.getBestCmap()
    traced = {int(p.stem[2:], 16): trace_glyph(load_glyph_image(p)) for p in GLYPHS.glob("U+*.png")}
    placements = place_hangul({cp: g for cp, g in traced.items() if is_hangul(cp)})[0]
    placements.update(place_latin({cp: g for cp, g in traced.items() if not is_hangul(cp)})[0])
    scores = {}
    for cp, placement in placements.items():
        image = load_glyph_image(GLYPHS / f"U+{cp:04X}.png")
        drawn = glyph_mask(glyf[cmap[cp]], glyf, placement, image.shape[1], image.shape[0])
        scores[chr(cp)] = iou(drawn, image_mask(image))
    assert len(scores) == 33
    worst = min(scores, key=lambda ch: scores[ch])
    assert scores[worst] >= MIN_IOU, f"{worst!r}: IoU {scores[worst]:.3f}"


def bitmap_holes(gray: np.ndarray) -> int:
    """Count the holes (over 4 px) in a glyph image's ink that are closed even diagonally.

    Paper pixels are joined 8-ways: a hole that leaks through a diagonal gap (the ㅇ of a hasty ㅎ)
    is ambiguous, and potrace may rightly leave it open.
    """
    paper = (gray >= 128).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=8)
    h, w = gray.shape
    return sum(
        1 for x, y, bw, bh, area in stats[1:] if x > 0 and y > 0 and x + bw < w and y + bh < h and area > 4
    )


def test_holes_survive_as_counter_clockwise_contours(built: PackageReport) -> None:
    """ㅇ, ㅂ, o, b ...: every hole in an input bitmap is a counter-clockwise contour in its glyph."""
    font = TTFont(built.ttf)
    glyf, cmap = font["glyf"], font.getBestCmap()
    seen = 0
    for path in sorted(GLYPHS.glob("U+*.png")):
        glyph = glyf[cmap[int(path.stem[2:], 16)]]
        coords, ends, _ = glyph.getCoordinates(glyf)
        areas, start = [], 0
        for end in ends:
            x, y = np.array(coords[start : end + 1], dtype=float).T
            areas.append(0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))
            start = end + 1
        holes = bitmap_holes(load_glyph_image(path))
        # TrueType: ink clockwise (negative area with y up), holes counter-clockwise.
        assert sum(a > 0 for a in areas) == holes, path.name
        assert sum(a < 0 for a in areas) >= 1, path.name
        seen += holes
    assert seen >= 6  # 앙 alone has two


def crop_to_box(gray: np.ndarray, box: int = 96) -> np.ndarray:
    """Tight-crop the ink and scale it (aspect kept) into the middle of a box x box square."""
    ys, xs = np.nonzero(gray < 128)
    crop = Image.fromarray(gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    scale = box / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    crop = crop.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("L", (box, box), 255)
    canvas.paste(crop, ((box - crop.width) // 2, (box - crop.height) // 2))
    return np.asarray(canvas) < 128


def test_freetype_draws_the_glyphs_with_their_holes(built: PackageReport) -> None:
    """FreeType (non-zero fill, unlike the even-odd check above) keeps the holes of ㅇ ㅁ ㅂ open."""
    font = ImageFont.truetype(str(built.ttf), 400, layout_engine=ImageFont.Layout.BASIC)
    for char in "앙몸밥HQgo":
        image = Image.new("L", (600, 600), 255)
        ImageDraw.Draw(image).text((100, 50), char, font=font, fill=0)
        source = load_glyph_image(GLYPHS / f"U+{ord(char):04X}.png")
        score = iou(crop_to_box(np.asarray(image)), crop_to_box(source))
        assert score >= 0.85, f"{char!r}: {score:.3f}"  # looser: tight-crop alignment is +-1 px


def test_preview_is_drawn_from_the_font(built: PackageReport) -> None:
    preview = np.asarray(Image.open(built.preview).convert("L"))
    assert preview.shape[1] > 800 and (preview < 128).mean() > 0.01


def test_two_runs_give_identical_bytes(built: PackageReport, tmp_path: Path) -> None:
    again = package_font(GLYPHS, tmp_path / "again.ttf", FAMILY)
    assert again.ttf.read_bytes() == built.ttf.read_bytes()
    assert again.woff2.read_bytes() == built.woff2.read_bytes()


def test_tracing_on_two_processes_gives_the_same_font(built: PackageReport, tmp_path: Path) -> None:
    parallel = package_font(GLYPHS, tmp_path / "parallel.ttf", FAMILY, workers=2)
    assert parallel.ttf.read_bytes() == built.ttf.read_bytes()


def test_bad_glyphs_are_reported_and_left_out(tmp_path: Path) -> None:
    glyphs = tmp_path / "glyphs"
    shutil.copytree(GLYPHS, glyphs)
    Image.new("L", (128, 128), 255).save(glyphs / "U+AC02.png")  # blank
    Image.new("L", (128, 128), 0).save(glyphs / "U+AC03.png")  # a black square
    (glyphs / "U+AC04.png").write_bytes(b"not a png at all")
    Image.new("L", (128, 128), 255).save(glyphs / "U+AC05.png", format="JPEG")
    Image.new("L", (128, 128), 255).save(glyphs / "U+3131.png")  # a jamo: not in the character set
    (glyphs / "notes.txt").write_text("hello")
    report = package_font(glyphs, tmp_path / "out" / "font.ttf", FAMILY)
    reasons = {issue.codepoint: issue.reason for issue in report.broken}
    assert set(reasons) == {0xAC02, 0xAC03, 0xAC04, 0xAC05, 0x3131}
    assert "no ink" in reasons[0xAC02] and "blot" in reasons[0xAC03]
    assert "PNG" in reasons[0xAC04] and "JPEG" in reasons[0xAC05] and "cut from" in reasons[0x3131]
    assert report.ignored == ("notes.txt",)
    cmap = TTFont(report.ttf).getBestCmap()
    assert not (set(reasons) - {0x3131}) & set(cmap)  # nothing empty shipped in silence
    assert report.hangul_count == 12


def test_no_usable_hangul_is_fatal_and_writes_nothing(tmp_path: Path) -> None:
    glyphs = tmp_path / "glyphs"
    glyphs.mkdir()
    for path in GLYPHS.glob("U+00*.png"):
        shutil.copy(path, glyphs)
    Image.new("L", (128, 128), 255).save(glyphs / "U+AC00.png")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"no usable Hangul syllable .*U\+AC00: no ink"):
        package_font(glyphs, out / "font.ttf", FAMILY)
    assert not out.exists()


def test_transparent_png_is_read_as_ink_on_paper(tmp_path: Path) -> None:
    source = load_glyph_image(GLYPHS / "U+C548.png")
    rgba = np.zeros((*source.shape, 4), np.uint8)
    rgba[..., 3] = 255 - source  # black ink whose opacity is the darkness; transparent paper
    path = tmp_path / "U+C548.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_glyph_image(path)
    assert np.abs(loaded.astype(int) - source.astype(int)).max() <= 1


def test_progress_reaches_one(tmp_path: Path) -> None:
    seen: list[float] = []
    package_font(GLYPHS, tmp_path / "p.ttf", FAMILY, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 3
    assert all(0 <= f <= 1 for f in seen)


def test_ttf_from_bytes_renders(built: PackageReport) -> None:
    font = ImageFont.truetype(io.BytesIO(built.ttf.read_bytes()), 64)
    assert font.getbbox("앙")[2] > 0
