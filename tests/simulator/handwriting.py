"""Fill a rendered template page with "handwriting" from handwriting fonts, recording the truth per cell."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from templates.layout import ARUCO_DICTIONARY, LATIN_BASELINE, Cell, Page, build_layout, marker_id
from templates.render import page_array

PRETRAIN_TSV = Path("/work/shared/fonts/pretrain.tsv")
# Used when the font list is not on this machine (CI): Debian handwriting faces listed in pretrain.tsv.
FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumPen.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBrush.ttf",
    "/usr/share/fonts/truetype/unfonts-core/UnPilgi.ttf",
)
# Pen colours as RGB on white paper; "faint" is a pencil pressed lightly (expected status "faint").
PENS: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 34),
    "blue": (28, 48, 150),
    "pencil": (100, 100, 106),
    "faint": (200, 200, 204),
}
MARGIN_PX = 8  # ok cells keep their ink this far inside the writing box
LINE_PEN = 0.55  # the writing line is written at this share of the writing box (font size)
OVERFLOW_PX = (10, 18)  # how far overflowing ink crosses the box edge (less than the gap to the next cell)


@functools.cache
def handwriting_fonts() -> tuple[Path, ...]:
    """Installed handwriting-class fonts from the pretraining list (falls back to three Debian faces)."""
    paths: list[str] = []
    if PRETRAIN_TSV.is_file():
        with open(PRETRAIN_TSV, encoding="utf-8") as f:
            paths = [row["path_or_obtain"] for row in csv.DictReader(f, delimiter="\t")
                     if "handwriting" in row["class"] and row["source"] == "debian"]
    found = tuple(Path(p) for p in (paths or FALLBACK_FONTS) if Path(p).is_file())
    if not found:
        raise FileNotFoundError("no handwriting font found: install fonts-nanum and fonts-unfonts-core")
    return found


@dataclass
class FilledPage:
    """A template page with ink on it, plus what was written where."""

    page: Page
    image: np.ndarray  # (H, W, 3) uint8 RGB at 300 dpi
    truth: dict[int, np.ndarray]  # codepoint -> uint8 writing-box image: 255 paper, 0 full ink coverage
    expected: dict[int, str]  # codepoint -> "ok" | "empty" | "overflow" | "faint"
    font: Path
    pen: str
    line_written: bool = False  # the page's writing line holds its phrase (set from `font`)


@functools.cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def glyph_alpha(font: Path, char: str, size: int, slant: float, angle: float) -> tuple[np.ndarray, float]:
    """Return (coverage 0..1 cropped to the ink, baseline row in that crop) of one slanted, turned glyph."""
    face = _font(font, size)
    ascent = face.getmetrics()[0]
    pad = size
    canvas = Image.new("L", (3 * size, 3 * size), 0)
    ImageDraw.Draw(canvas).text((pad, pad), char, font=face, fill=255)
    baseline = pad + ascent
    centre = (pad + size / 2, baseline)  # shear and turn about a point on the baseline
    turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
    shear = np.array([[1.0, -slant, slant * centre[1]], [0.0, 1.0, 0.0]])
    matrix = turn @ np.vstack([shear, [0, 0, 1]])
    warped = cv2.warpAffine(np.asarray(canvas), matrix, canvas.size, flags=cv2.INTER_LINEAR)
    left, top, width, height = cv2.boundingRect((warped > 8).astype(np.uint8))
    if width == 0:
        return np.zeros((0, 0), np.float32), 0.0
    crop = warped[top:top + height, left:left + width].astype(np.float32) / 255.0
    return crop, float(baseline - top)


def _place(cell: Cell, alpha: np.ndarray, baseline: float, rng: np.random.Generator,
           overflow: bool) -> tuple[int, int] | None:
    """Top-left page position for the glyph: inside the box (or crossing one edge), None if it cannot fit."""
    x0, y0, x1, y1 = cell.box
    height, width = alpha.shape
    room_x, room_y = (x1 - x0) - 2 * MARGIN_PX - width, (y1 - y0) - 2 * MARGIN_PX - height
    if room_x < 0 or room_y < 0:
        return None
    x = x0 + MARGIN_PX + int(rng.integers(0, room_x + 1))
    if cell.script == "latin":  # writers sit letters on the printed baseline
        y = round(y0 + LATIN_BASELINE * (y1 - y0) - baseline + rng.uniform(-5, 3))
        if y < y0 + MARGIN_PX or y + height > y1 - MARGIN_PX:
            return None
    else:
        y = y0 + MARGIN_PX + int(rng.integers(0, room_y + 1))
    if overflow:
        edge = rng.choice(["left", "right", "bottom"])
        # Cross by OVERFLOW_PX but keep at least half the glyph inside, so it is neither empty nor gone.
        extent = height if edge == "bottom" else width
        cross = min(int(rng.integers(*OVERFLOW_PX)), extent // 2)
        if edge == "left":
            x = x0 - cross
        elif edge == "right":
            x = x1 + cross - width
        else:
            y = y1 + cross - height
    return x, y


def _restamp_markers(image: np.ndarray, page: Page, version: str) -> None:
    """Draw, over each marker, the marker of the same page and position in template `version`."""
    dictionary = cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY)
    for position, marker in enumerate(page.markers):
        x, y = (int(v) for v in marker.corners[0])
        side = int(marker.corners[1][0] - marker.corners[0][0]) + 1
        bits = cv2.aruco.generateImageMarker(dictionary, marker_id(version, page.page, position), side)
        image[y:y + side, x:x + side] = bits[..., None]


def _write_cell(cell: Cell, font: Path, rng: np.random.Generator,
                overflow: bool) -> tuple[np.ndarray, int, int]:
    """Choose size, slant and tilt for one character until it fits; return (alpha, x, y) in page pixels."""
    box = cell.box[2] - cell.box[0]
    for attempt in range(12):
        shrink = 0.93**attempt
        if cell.script == "latin":
            size = int(box * rng.uniform(0.5, 0.72) * shrink)
        else:
            size = int(box * rng.uniform(0.62, 0.92) * shrink)
        alpha, baseline = glyph_alpha(font, cell.char, size, rng.uniform(-0.25, 0.25), rng.uniform(-6, 6))
        if alpha.size == 0:
            raise ValueError(f"{font.name} has no outline for {cell.char!r}")
        spot = _place(cell, alpha, baseline, rng, overflow)
        if spot is not None:
            return alpha, spot[0], spot[1]
    raise ValueError(f"could not fit {cell.char!r} of {font.name} into its box")


@functools.cache
def _covers(font: Path, chars: tuple[str, ...]) -> bool:
    face = _font(font, 64)
    return all(face.getbbox(c)[2] > face.getbbox(c)[0] for c in chars)


def _write_line(image: np.ndarray, page: Page, font: Path, pen: str) -> bool:
    """Write the page's writing-line phrase in `font` as running text (its own advances); False if none."""
    if page.line is None:
        return False
    x0, y0, x1, y1 = page.line.box
    size = round(LINE_PEN * (page.cells[0].box[2] - page.cells[0].box[0]))
    face = ImageFont.truetype(str(font), size, layout_engine=ImageFont.Layout.RAQM)
    canvas = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(canvas).text((40, page.line.baseline * (y1 - y0)), page.line.phrase, font=face, fill=255,
                                anchor="ls", features=["kern"])
    alpha = np.asarray(canvas, np.float32)[..., None] / 255.0
    colour = np.asarray(PENS[pen], np.float32) / 255.0
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (region * (1.0 - alpha * (1.0 - colour)) + 0.5).astype(np.uint8)
    return True


def fill_page(page_number: int, rng: np.random.Generator, *, pen: str = "black", font: Path | None = None,
              empty: float = 0.0, overflow: float = 0.0, faint: float = 0.0,
              marker_version: str | None = None, line: bool = True) -> FilledPage:
    """Render page `page_number` of the template and write every cell in one hand (font) and pen.

    empty / overflow / faint are the shares of cells left blank, written across the box edge, or written
    with a lightly pressed pencil; the rest are written inside the box and are expected to read "ok".
    marker_version prints the markers of another template version (e.g. "v0") in place of the current ones.
    line writes the writing line's phrase (on the page that has one) as running text in the same hand.
    """
    if pen not in PENS:
        raise ValueError(f"pen must be one of {', '.join(PENS)}, got {pen!r}")
    page = build_layout().page(page_number)
    chars = tuple(c.char for c in page.cells)
    if font is None:  # the first font, in an order drawn from the seed, that has every character
        fonts = handwriting_fonts()
        font = next(fonts[i] for i in rng.permutation(len(fonts)) if _covers(fonts[i], chars))
    image = page_array(page).copy()
    if marker_version is not None:
        _restamp_markers(image, page, marker_version)
    truth: dict[int, np.ndarray] = {}
    expected: dict[int, str] = {}
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        box = np.zeros((y1 - y0, x1 - x0), np.float32)
        draw = rng.random()
        kind = ("empty" if draw < empty else "overflow" if draw < empty + overflow
                else "faint" if draw < empty + overflow + faint else "ok")
        expected[cell.codepoint] = kind
        if kind != "empty":
            alpha, x, y = _write_cell(cell, font, rng, overflow=kind == "overflow")
            colour = np.asarray(PENS["faint" if kind == "faint" else pen], np.float32) / 255.0
            ink = alpha
            if pen == "pencil" or kind == "faint":  # graphite leaves a grainy, uneven line
                grain = cv2.GaussianBlur(rng.uniform(0.8, 1.0, alpha.shape).astype(np.float32), (0, 0), 0.7)
                ink = alpha * grain
            h, w = alpha.shape
            region = image[y:y + h, x:x + w].astype(np.float32)
            region *= 1.0 - ink[..., None] * (1.0 - colour)  # ink absorbs light on top of the print
            image[y:y + h, x:x + w] = (region + 0.5).astype(np.uint8)
            bx0, by0 = max(x, x0), max(y, y0)
            bx1, by1 = min(x + w, x1), min(y + h, y1)
            box[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0] = alpha[by0 - y:by1 - y, bx0 - x:bx1 - x]
        truth[cell.codepoint] = np.round(255 * (1 - box)).astype(np.uint8)
    written = line and _write_line(image, page, font, pen)
    return FilledPage(page, image, truth, expected, font, pen, written)
