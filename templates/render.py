"""Draw the template pages (300 dpi RGB images) and write template.pdf, page-N.png and layout.json.

    >>> from templates.render import write_template
    >>> write_template("out/template")   # doctest: +SKIP
    [PosixPath('out/template/template.pdf'), ...]

Guides are light and never black, so ink can be told from them by intensity or colour: box outlines are
light grey and drawn just OUTSIDE the writing box; the Latin baseline (and a fainter dashed x-height line)
is light blue. Only the markers are pure black.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from templates.layout import (
    ARUCO_DICTIONARY,
    DPI,
    LATIN_BASELINE,
    LATIN_XHEIGHT,
    MARGIN_PX,
    MARKER_SIZE_PX,
    QUIET_ZONE_PX,
    Cell,
    Page,
    WritingLine,
    build_layout,
    layout_json_text,
)

FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
TEXT_FONT = FONT_DIR / "NanumGothic.ttf"
BOLD_FONT = FONT_DIR / "NanumGothicBold.ttf"
LATIN_LABEL_FONT = FONT_DIR / "NanumGothicCoding.ttf"  # tells l/1/I and 0/O apart

PAPER = (255, 255, 255)
MARKER_INK = (0, 0, 0)
TEXT = (40, 40, 40)
LABEL = (70, 70, 70)
HINT = (150, 150, 150)
OUTLINE = (190, 190, 190)
BASELINE = (140, 185, 235)
XHEIGHT = (195, 218, 245)
OUTLINE_PX = 3  # drawn outside the box, so a clean crop of the box holds no outline

PRODUCT = "geulssi 글씨"
SCRIPT_NAMES = {"hangul": "Hangul 한글", "latin": "Latin"}
INSTRUCTION_KO = "진한 펜으로 각 글자를 칸 안에 쓰세요. 사진을 찍을 때 네 모서리의 표식이 모두 나오게 하세요."
INSTRUCTION_EN = (
    "Write each character inside its box with a dark pen; keep all four corner markers in the photo."
)
LINE_INSTRUCTION_KO = "이 줄에 평소처럼 이어 써 주세요:"
LINE_INSTRUCTION_EN = "Write this phrase on the line as you normally write, with your usual spacing."
PRINT_NOTE = ("Print on A4 at 100 % (actual size), no scaling.", "A4 용지에 실제 크기(100%)로 인쇄하세요.")


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """Load a TrueType font; raise FileNotFoundError naming the package to install if it is missing."""
    if not path.is_file():
        raise FileNotFoundError(
            f"font {path} is missing; install the Nanum fonts (apt-get install fonts-nanum)"
        )
    return ImageFont.truetype(str(path), size)


def _draw_markers(image: Image.Image, page: Page) -> None:
    dictionary = cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY)
    draw = ImageDraw.Draw(image)
    for marker in page.markers:
        x, y = (int(v) for v in marker.corners[0])
        # White quiet zone first: it must win over anything else printed nearby.
        draw.rectangle(
            (
                x - QUIET_ZONE_PX,
                y - QUIET_ZONE_PX,
                x + MARKER_SIZE_PX + QUIET_ZONE_PX - 1,
                y + MARKER_SIZE_PX + QUIET_ZONE_PX - 1,
            ),
            fill=PAPER,
        )
        bits = cv2.aruco.generateImageMarker(dictionary, marker.id, MARKER_SIZE_PX)
        image.paste(Image.fromarray(bits).convert("RGB"), (x, y))


def _draw_cell(draw: ImageDraw.ImageDraw, cell: Cell, fonts: dict[str, ImageFont.FreeTypeFont]) -> None:
    x0, y0, x1, y1 = cell.box
    draw.rectangle(
        (x0 - OUTLINE_PX, y0 - OUTLINE_PX, x1 + OUTLINE_PX - 1, y1 + OUTLINE_PX - 1),
        outline=OUTLINE,
        width=OUTLINE_PX,
    )
    lx0, ly0, lx1, ly1 = cell.label_box
    middle = (ly0 + ly1) / 2
    font = fonts["label_latin"] if cell.script == "latin" else fonts["label"]
    draw.text((lx0 + 2, middle), cell.char, font=font, fill=LABEL, anchor="lm")
    draw.text((lx1 - 2, middle), f"U+{cell.codepoint:04X}", font=fonts["hint"], fill=HINT, anchor="rm")
    if cell.script == "latin":
        height = y1 - y0
        baseline = y0 + round(LATIN_BASELINE * height)
        draw.line((x0, baseline, x1 - 1, baseline), fill=BASELINE, width=2)
        xheight = y0 + round(LATIN_XHEIGHT * height)
        for dash in range(x0, x1, 16):
            draw.line((dash, xheight, min(dash + 7, x1 - 1), xheight), fill=XHEIGHT, width=1)


def _draw_line(
    draw: ImageDraw.ImageDraw, line: WritingLine, fonts: dict[str, ImageFont.FreeTypeFont]
) -> None:
    """The writing line: instructions and the phrase above a framed strip with a printed baseline."""
    lx0, ly0, _, _ = line.label_box
    draw.text((lx0, ly0), LINE_INSTRUCTION_KO, font=fonts["small"], fill=TEXT)
    indent = draw.textlength(LINE_INSTRUCTION_KO + " ", font=fonts["small"])
    draw.text((lx0 + indent, ly0 - 4), line.phrase, font=fonts["line_phrase"], fill=TEXT)
    draw.text((lx0, ly0 + 40), LINE_INSTRUCTION_EN, font=fonts["hint_line"], fill=LABEL)
    x0, y0, x1, y1 = line.box
    draw.rectangle(
        (x0 - OUTLINE_PX, y0 - OUTLINE_PX, x1 + OUTLINE_PX - 1, y1 + OUTLINE_PX - 1),
        outline=OUTLINE,
        width=OUTLINE_PX,
    )
    baseline = y0 + round(line.baseline * (y1 - y0))
    draw.line((x0, baseline, x1 - 1, baseline), fill=BASELINE, width=2)


def _draw_text_blocks(
    draw: ImageDraw.ImageDraw, page: Page, total_pages: int, fonts: dict[str, ImageFont.FreeTypeFont]
) -> None:
    width, height = page.size_px
    # Text sits in the marker rows, between the markers' quiet zones.
    left = MARGIN_PX + MARKER_SIZE_PX + QUIET_ZONE_PX + 20
    right = width - left
    top = MARGIN_PX
    scripts = sorted({SCRIPT_NAMES[c.script] for c in page.cells})
    first, last = page.cells[0], page.cells[-1]
    contents = f"{' + '.join(scripts)}: {first.char} … {last.char} ({len(page.cells)} characters)"
    draw.text((left, top + 10), PRODUCT, font=fonts["title"], fill=TEXT)
    draw.text(
        (left, top + 100),
        f"handwriting template {build_layout().template_version} · 손글씨 양식",
        font=fonts["small"],
        fill=TEXT,
    )
    draw.text(
        (right, top + 10), f"page {page.page} of {total_pages}", font=fonts["title"], fill=TEXT, anchor="ra"
    )
    draw.text((right, top + 100), contents, font=fonts["small"], fill=TEXT, anchor="ra")
    below_markers = MARGIN_PX + MARKER_SIZE_PX + QUIET_ZONE_PX
    draw.text((width / 2, below_markers + 8), INSTRUCTION_KO, font=fonts["text"], fill=TEXT, anchor="ma")
    draw.text((width / 2, below_markers + 54), INSTRUCTION_EN, font=fonts["text"], fill=TEXT, anchor="ma")
    bottom = height - MARGIN_PX - MARKER_SIZE_PX
    draw.text((left, bottom + 70), PRINT_NOTE[0], font=fonts["small"], fill=HINT)
    draw.text((right, bottom + 70), PRINT_NOTE[1], font=fonts["small"], fill=HINT, anchor="ra")


def render_page(page: Page, total_pages: int | None = None) -> Image.Image:
    """Return one page as a 300 dpi RGB image of page.size_px; total_pages defaults to the layout's."""
    fonts = {
        "title": _font(BOLD_FONT, 64),
        "text": _font(TEXT_FONT, 36),
        "small": _font(TEXT_FONT, 30),
        "label": _font(TEXT_FONT, 36),
        "label_latin": _font(LATIN_LABEL_FONT, 38),
        "hint": _font(TEXT_FONT, 20),
        "line_phrase": _font(BOLD_FONT, 36),
        "hint_line": _font(TEXT_FONT, 26),
    }
    image = Image.new("RGB", page.size_px, PAPER)
    draw = ImageDraw.Draw(image)
    _draw_text_blocks(draw, page, total_pages or len(build_layout().pages), fonts)
    for cell in page.cells:
        _draw_cell(draw, cell, fonts)
    if page.line is not None:
        _draw_line(draw, page.line, fonts)
    _draw_markers(image, page)
    return image


def page_array(page: Page) -> np.ndarray:
    """Return one page as an (H, W, 3) uint8 RGB array (for tests and the photo simulator)."""
    return np.asarray(render_page(page))


def _write_pdf(images: list[Image.Image], path: Path) -> None:
    # One image pixel is exactly 1/300 inch, so printing "actual size" reproduces the layout's geometry.
    width_pt, height_pt = (v * 72 / DPI for v in images[0].size)
    pdf = canvas.Canvas(str(path), pagesize=(width_pt, height_pt), invariant=1)
    pdf.setTitle("geulssi handwriting template")
    for image in images:
        pdf.drawImage(ImageReader(image), 0, 0, width=width_pt, height=height_pt)
        pdf.showPage()
    pdf.save()


def write_template(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write template.pdf, page-N.png (one per page) and layout.json into out_dir; return their paths.

    Everything is written into a temporary directory inside out_dir first and moved into place at the end,
    so an interrupted run leaves no half-written file under the final names.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layout = build_layout()
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".template-"))
    try:
        images = [render_page(page, len(layout.pages)) for page in layout.pages]
        names = []
        for page, image in zip(layout.pages, images, strict=True):
            image.save(staging / f"page-{page.page}.png", dpi=(DPI, DPI))
            names.append(f"page-{page.page}.png")
        _write_pdf(images, staging / "template.pdf")
        (staging / "layout.json").write_text(layout_json_text(layout), encoding="utf-8")
        names = ["template.pdf", *names, "layout.json"]
        for name in names:
            os.replace(staging / name, out / name)
        return [out / name for name in names]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
