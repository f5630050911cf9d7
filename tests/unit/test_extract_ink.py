"""Reading the boxes of a rectified page: lighting flattened, printed guides removed, statuses decided."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from services.extraction.glyph_image import FIT_BLUR_RATIO, FIT_FROM_SIGMA, fit_strokes
from services.extraction.ink import STATUS_MEANING, flatten_lighting, read_cells
from services.extraction.photo_quality import blur_sigma, sharpness
from templates.layout import LATIN_BASELINE, build_layout
from templates.render import page_array

LAYOUT = build_layout()


@functools.cache
def _blank(number: int) -> np.ndarray:
    """The printed page as brightness in [0, 1] (float32)."""
    return cv2.cvtColor(page_array(LAYOUT.page(number)), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0


def _ink(page: np.ndarray, number: int, index: int, dx0: int, dy0: int, dx1: int, dy1: int,
         darkness: float = 0.9) -> None:
    """Lay a rectangle of ink at box-relative (dx0, dy0)-(dx1, dy1) of cell `index`, on top of the print."""
    x0, y0 = LAYOUT.page(number).cells[index].box[:2]
    page[y0 + dy0:y0 + dy1, x0 + dx0:x0 + dx1] *= 1.0 - darkness


@functools.cache
def _light(height: int, width: int) -> np.ndarray:
    """Uneven light: a left-to-right gradient times a soft shadow over the lower part of the page."""
    ys, xs = np.mgrid[0:height:8, 0:width:8].astype(np.float32)
    level = (0.9 - 0.35 * xs / width) * (1.0 - 0.4 / (1.0 + np.exp(-(ys - height * 0.6) / 80.0)))
    return cv2.resize(level, (width, height), interpolation=cv2.INTER_LINEAR)


def _photograph(page: np.ndarray) -> np.ndarray:
    """Blur slightly and light unevenly, as uint8 like a rectified photo."""
    lit = cv2.multiply(cv2.GaussianBlur(page, (0, 0), 1.0), _light(*page.shape), scale=235.0)
    return cv2.convertScaleAbs(lit)  # rounds and saturates to uint8


def _read(page: np.ndarray, number: int) -> list:
    cells, _ = read_cells(flatten_lighting(_photograph(page)), LAYOUT.page(number),
                          [True] * len(LAYOUT.page(number).cells))
    return cells


def test_flattening_makes_paper_white_under_gradient_and_shadow() -> None:
    flat = flatten_lighting(_photograph(_blank(1)))
    darkness = flat.darkness
    assert 0.3 < flat.paper_level < 0.9
    for cell in LAYOUT.page(1).cells[::7]:
        x0, y0, x1, y1 = cell.box
        inner = darkness[y0 + 10:y1 - 10, x0 + 10:x1 - 10]
        assert np.percentile(inner, 99) < 10  # out of 255: the paper reads as paper in light and shadow


def test_blank_latin_page_reads_empty_with_guides_removed() -> None:
    cells = _read(_blank(3).copy(), 3)
    assert {c.status for c in cells} == {"empty"}
    assert min(int(c.image.min()) for c in cells) == 255  # no trace of outline, baseline or x-height


def test_ink_crossing_the_baseline_is_kept_whole() -> None:
    page = _blank(3).copy()
    baseline = round(LATIN_BASELINE * 200)
    _ink(page, 3, 10, 90, baseline - 60, 100, baseline + 30)  # a vertical stroke through the baseline
    cell = _read(page, 3)[10]
    assert cell.status == "ok"
    column = cell.image[baseline - 55:baseline + 25, 95]
    assert column.max() < 100  # dark all the way, also where the stroke crosses the printed baseline
    assert cell.image[baseline, 20:80].min() > 230  # and the baseline beside it is gone


@pytest.fixture(scope="module")
def hangul_cells() -> list:
    page = _blank(1).copy()
    _ink(page, 1, 0, 60, 40, 72, 150)  # ok: a vertical stroke
    _ink(page, 1, 0, 40, 90, 150, 100)
    _ink(page, 1, 1, 60, 40, 72, 150, darkness=0.2)  # faint: pencil pressed lightly
    _ink(page, 1, 2, 120, 80, 214, 92)  # overflow: crosses the right edge by 14 px
    _ink(page, 1, 3, 20, 20, 180, 160)  # smudged: most of the box dark
    for dx, dy in ((30, 30), (150, 60), (100, 170)):  # dust: three specks
        _ink(page, 1, 4, dx, dy, dx + 2, dy + 2)
    _ink(page, 1, 5, 50, 50, 62, 150)  # ok, plus a stray mark in the gap beside the box, not touching it
    _ink(page, 1, 5, 208, 60, 214, 120)
    _ink(page, 1, 6, 150, 150, 190, 162)  # ok, written low and right: the position must be kept
    return _read(page, 1)


@pytest.mark.parametrize(("index", "status"), [(0, "ok"), (1, "faint"), (2, "overflow"), (3, "smudged"),
                                               (4, "empty"), (5, "ok"), (6, "ok"), (7, "empty")])
def test_statuses(hangul_cells: list, index: int, status: str) -> None:
    assert hangul_cells[index].status == status


def test_ok_ink_lands_where_it_was_written(hangul_cells: list) -> None:
    truth = np.zeros((200, 200), bool)
    truth[40:150, 60:72] = True
    truth[90:100, 40:150] = True
    ink = hangul_cells[0].image < 128
    assert (ink & truth).sum() / (ink | truth).sum() > 0.9
    low_right = hangul_cells[6].image < 128
    ys, xs = np.nonzero(low_right)
    assert abs(ys.mean() - 156) < 2 and abs(xs.mean() - 170) < 2  # not re-centred


def test_contrast_is_normalized_and_measured(hangul_cells: list) -> None:
    ok, faint = hangul_cells[0], hangul_cells[1]
    assert ok.image.min() < 20  # stretched to black
    assert faint.image.min() > 150  # shown as faint as it is, so the contact sheet tells the truth
    assert ok.strength > 0.7 and faint.strength < 0.3  # and the report says how dark the ink was
    assert 0.03 < ok.ink_ratio < 0.1
    assert hangul_cells[2].overflow_px >= 20 and hangul_cells[5].overflow_px == 0


def _photograph_blurred(page: np.ndarray, sigma: float) -> np.ndarray:
    """Like _photograph, with a blur of `sigma` page px (a 12-MP phone photo is about 1.5)."""
    lit = cv2.multiply(cv2.GaussianBlur(page, (0, 0), sigma), _light(*page.shape), scale=235.0)
    return cv2.convertScaleAbs(lit)


def _hairline_glyph(size: int = 200) -> np.ndarray:
    """Coverage (0..1) of a thin-pen letter in a Latin box: hairlines 2-3 px wide, a tail that ends in a
    point, and a stroke lying along the printed baseline, as a pencil script hand writes them."""
    canvas = np.zeros((size * 4, size * 4), np.uint8)  # drawn 4x larger and shrunk: anti-aliased coverage
    baseline = round(LATIN_BASELINE * size) * 4
    cv2.line(canvas, (240, 150), (200, baseline - 6), 255, 10)  # a 2.5 px upstroke...
    cv2.line(canvas, (200, baseline - 6), (420, baseline - 6), 255, 8)  # ...along the baseline
    cv2.ellipse(canvas, (520, baseline - 120), (90, 110), 0, 0, 360, 255, 11)  # a 2.75 px bowl
    cv2.line(canvas, (620, baseline - 230), (660, baseline - 120), 255, 12)  # a 3 px stroke thinning...
    cv2.line(canvas, (660, baseline - 120), (700, baseline + 60), 255, 6)  # ...to a 1.5 px tail
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def test_a_pencil_hairline_on_the_latin_page_keeps_its_shape() -> None:
    page, number, index = _blank(3).copy(), 3, 12
    x0, y0, x1, y1 = LAYOUT.page(number).cells[index].box
    glyph = _hairline_glyph()
    page[y0:y1, x0:x1] *= 1.0 - 0.6 * glyph  # pencil: 60 % darkness, over the printed baseline
    count = len(LAYOUT.page(number).cells)
    for other in range(0, count, 9):  # the rest of the page in the same pencil, with some broad strokes
        if other != index:
            _ink(page, number, other, 60, 40, 70, 140, darkness=0.6)
    blur = 1.5
    cells, _ = read_cells(flatten_lighting(_photograph_blurred(page, blur)), LAYOUT.page(number),
                          [True] * count, blur_sigma=blur)
    cell = cells[index]
    assert cell is not None and cell.status == "ok"
    ink, truth = cell.image < 128, glyph > 0.5
    assert (ink & truth).sum() / (ink | truth).sum() >= 0.9


def test_a_lone_thin_stroke_is_not_drawn_wider_than_written() -> None:
    # A slash alone in its box never shows the pen's full darkness; stretched to its own faded peak it
    # would come out as wide as its blur.
    page, number, index = _blank(1).copy(), 1, 40
    canvas = np.zeros((800, 800), np.uint8)
    cv2.line(canvas, (300, 650), (500, 150), 255, 12)  # 3 px wide
    glyph = cv2.resize(canvas, (200, 200), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    x0, y0, x1, y1 = LAYOUT.page(number).cells[index].box
    page[y0:y1, x0:x1] *= 1.0 - 0.9 * glyph
    for other in range(0, 100, 7):
        if other != index:
            _ink(page, number, other, 60, 40, 72, 150)
    blur = 1.6
    cells, measures = read_cells(flatten_lighting(_photograph_blurred(page, blur)), LAYOUT.page(number),
                                 [True] * 100, blur_sigma=blur)
    cell = cells[index]
    assert cell is not None and cell.status == "ok"
    ink, truth = cell.image < 128, glyph > 0.5
    assert (ink & truth).sum() / (ink | truth).sum() >= 0.9
    assert 0.7 < measures["ink_level"] < 1.0


def test_fit_strokes_gives_a_blurred_thin_line_its_width_back() -> None:
    # A 4 px line of 0.7 darkness under a blur of sigma 3 px peaks just under half its darkness: cut at half
    # the pen's darkness it would not come out at all.
    canvas = np.zeros((120, 120), np.float32)
    canvas[10:110, 58:62] = 0.7
    seen = cv2.GaussianBlur(canvas, (0, 0), 3.0)
    fitted = fit_strokes(seen, 3.0 / FIT_BLUR_RATIO, 0.7)
    width = (fitted[60] >= 0.35).sum()
    assert (seen[60] >= 0.35).sum() == 0
    assert 3 <= width <= 5
    assert np.abs(np.nonzero(fitted[60] >= 0.35)[0].mean() - 59.5) < 0.5  # where it was, not moved


def _photograph_low_res(page: np.ndarray, scale: float, blur: float) -> np.ndarray:
    """A rectified photo taken with `scale` photo px per page px (a 2 MP phone photo is about 0.3) and an
    optical blur of `blur` photo px, enlarged back to the page bicubically, lit unevenly, as uint8."""
    height, width = page.shape
    small = cv2.resize(page, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), blur)
    back = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.convertScaleAbs(cv2.multiply(back, _light(height, width), scale=235.0))


def _thin_hangul(size: int = 200, width_px: float = 6.5) -> np.ndarray:
    """Coverage (0..1) of a thin-pen syllable: a circle, a vertical and a horizontal stroke."""
    canvas = np.zeros((size * 4, size * 4), np.uint8)
    thick = round(width_px * 4)
    cv2.circle(canvas, (250, 300), 150, 255, thick)
    cv2.line(canvas, (560, 100), (560, 700), 255, thick)
    cv2.line(canvas, (560, 380), (700, 380), 255, thick)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def test_a_thin_pen_in_a_2mp_photo_keeps_its_stroke_width() -> None:
    page, number, index = _blank(1).copy(), 1, 22
    x0, y0, x1, y1 = LAYOUT.page(number).cells[index].box
    glyph = _thin_hangul()
    page[y0:y1, x0:x1] *= 1.0 - 0.85 * glyph
    for other in range(0, 100, 6):  # the same pen elsewhere, with broad strokes that show its darkness
        if other != index:
            _ink(page, number, other, 60, 40, 76, 150, darkness=0.85)
    gray = _photograph_low_res(page, 0.3, 0.8)
    markers = LAYOUT.page(number).markers
    sigma = blur_sigma(sharpness(gray, markers))
    assert sigma >= FIT_FROM_SIGMA  # soft at the page's scale: the strokes are fitted
    cells, measures = read_cells(flatten_lighting(gray), LAYOUT.page(number), [True] * 100, blur_sigma=sigma)
    cell = cells[index]
    assert cell is not None and cell.status == "ok"
    assert abs(measures["fit_level"] - 0.85) < 0.05
    ink, truth = cell.image < 128, glyph > 0.5
    assert (ink & truth).sum() / (ink | truth).sum() >= 0.9
    assert 0.93 < ink.sum() / truth.sum() < 1.07  # neither fatter nor thinner than written


def test_sharp_photos_keep_the_unsharp_mask() -> None:
    page = _blank(1).copy()
    _ink(page, 1, 0, 60, 40, 72, 150)
    _, measures = read_cells(flatten_lighting(_photograph_blurred(page, 1.5)), LAYOUT.page(1),
                             [True] * len(LAYOUT.page(1).cells), blur_sigma=1.5)
    assert measures["fit_level"] is None


def test_every_status_has_a_korean_label_on_the_web_page() -> None:
    script = (Path(__file__).parents[2] / "services/api/static/messages.js").read_text(encoding="utf-8")
    labels = script.split("const STATUS_KO = {", 1)[1].split("};", 1)[0]
    named = set(re.findall(r'"?([a-z][a-z ]*[a-z])"?:\s*"', labels))
    assert set(STATUS_MEANING) <= named
