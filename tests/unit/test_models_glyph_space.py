"""Tests for models.glyph_space: font glyphs and handwriting boxes land in the same canonical space."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models import glyph_space as gs
from models.fonts import FontFace, has_ink, render

NANUM = FontFace("NanumGothic", __import__("pathlib").Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"))
needs_font = pytest.mark.skipif(not NANUM.path.is_file(), reason="fonts-nanum is not installed")


def _paste(glyph: np.ndarray, box: tuple[int, int], size: int, at: tuple[int, int]) -> np.ndarray:
    """Crop the glyph's ink, resize its larger side to `size` and paste it into a white box at `at`."""
    x0, y0, x1, y1 = gs.ink_bbox(glyph) or (0, 0, 1, 1)
    crop = glyph[y0:y1, x0:x1]
    f = size / max(crop.shape)
    small = cv2.resize(
        crop, (round(crop.shape[1] * f), round(crop.shape[0] * f)), interpolation=cv2.INTER_AREA
    )
    out = np.full(box, 255, np.uint8)
    out[at[1] : at[1] + small.shape[0], at[0] : at[0] + small.shape[1]] = small
    return out


def test_bbox_ignores_specks() -> None:
    image = np.full((100, 100), 255, np.uint8)
    image[30:70, 40:60] = 0
    image[2, 2] = 0  # dust
    image[97:99, 95:97] = 20
    assert gs.ink_bbox(image) == (40, 30, 60, 70)


def test_blank_image() -> None:
    blank = np.full((50, 50), 255, np.uint8)
    assert gs.ink_bbox(blank) is None
    assert (gs.to_canonical(blank, 1.0) == 255).all()
    with pytest.raises(ValueError, match="none of the glyph images"):
        gs.writer_scale([blank])


def test_rejects_non_images() -> None:
    with pytest.raises(ValueError, match="2-D"):
        gs.to_canonical(np.zeros((2, 3, 5, 5), np.uint8), 1.0)


@needs_font
def test_font_glyph_and_handwritten_box_agree() -> None:
    font = NANUM.open()
    chars = "가나다라마바사아자차카타파하한글쓰기"
    renders = [render(font, ord(c)) for c in chars]
    # The "writer" wrote the same glyphs at ~40% of the size, off-centre, in a noisy 300x260 box.
    rng = np.random.default_rng(0)
    boxes = []
    for im in renders:
        size = round(gs.ink_extent(im) * 0.4)
        box = _paste(im, (260, 300), size, (30 + int(rng.integers(0, 40)), 50 + int(rng.integers(0, 40))))
        box[rng.integers(0, 260, 5), rng.integers(0, 300, 5)] = 0  # specks
        boxes.append(box)
    font_scale, writer_scale = gs.writer_scale(renders), gs.writer_scale(boxes)
    for im, box in zip(renders, boxes, strict=True):
        a = gs.to_canonical(im, font_scale).astype(float)
        b = gs.to_canonical(box, writer_scale).astype(float)
        assert a.shape == b.shape == (128, 128)
        assert np.abs(a - b).mean() < 12  # same glyph, same place, same size (up to resampling)


@needs_font
def test_relative_size_survives() -> None:
    font = NANUM.open()
    flat, tall = render(font, ord("으")), render(font, ord("뷁"))  # 으 is much shorter than 뷁
    scale = gs.writer_scale([flat, tall])
    height = {}
    for name, image in (("flat", flat), ("tall", tall)):
        _, y0, _, y1 = gs.ink_bbox(gs.to_canonical(image, scale)) or (0, 0, 0, 0)
        height[name] = y1 - y0
    before = gs.ink_bbox(flat), gs.ink_bbox(tall)
    ratio_before = (before[0][3] - before[0][1]) / (before[1][3] - before[1][1])  # type: ignore[index]
    assert height["flat"] < 0.8 * height["tall"]
    assert height["flat"] / height["tall"] == pytest.approx(ratio_before, abs=0.03)


@needs_font
def test_no_glyph_overflows() -> None:
    font = NANUM.open()
    tiny, huge = render(font, ord("ㅡ")), render(font, ord("뷁"))
    scale = gs.writer_scale([tiny, tiny, tiny, huge])  # the median is tiny; the clamp must protect 뷁
    box = gs.ink_bbox(gs.to_canonical(huge, scale))
    assert box is not None
    assert box[0] >= 3 and box[1] >= 3 and box[2] <= 125 and box[3] <= 125
    assert has_ink(gs.to_canonical(tiny, scale))


def strokes(width: int) -> np.ndarray:
    """A stack of two glyphs drawn with lines of the given width (white paper, black ink)."""
    glyphs = np.full((2, 128, 128), 255, np.uint8)
    cv2.line(glyphs[0], (20, 30), (108, 30), 0, width)
    cv2.line(glyphs[0], (64, 30), (64, 110), 0, width)
    cv2.circle(glyphs[1], (64, 64), 40, 0, width)
    return glyphs


def ink_share(images: np.ndarray) -> float:
    return float(np.mean(images < gs.EDGE_LEVEL))


def test_matching_level_is_mid_grey_when_the_weights_already_match() -> None:
    level = gs.matching_level(strokes(6), strokes(6))
    assert abs(level - gs.EDGE_LEVEL) < 12


@pytest.mark.parametrize(("drawn_width", "written_width"), [(10, 5), (4, 9)])
def test_reweigh_moves_the_stroke_weight_towards_the_writer(drawn_width: int, written_width: int) -> None:
    drawn, written = strokes(drawn_width), strokes(written_width)
    level = gs.matching_level(drawn, written)
    assert (level < gs.EDGE_LEVEL) == (drawn_width > written_width)
    assert gs.LEVEL_RANGE[0] <= level <= gs.LEVEL_RANGE[1]
    reweighed = gs.reweigh(drawn, level)
    assert reweighed.dtype == np.uint8 and reweighed.shape == drawn.shape
    before, after, target = ink_share(drawn), ink_share(reweighed), ink_share(written)
    # Part of the way (WEIGHT_STRENGTH), never past the writer.
    assert abs(after - target) < abs(before - target)
    assert min(before, target) < after < max(before, target)
