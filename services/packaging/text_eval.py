"""Judges typesetting in running text: a font built from a font's template glyphs against the font itself.

Protocol (typesetting only, no generator): the true font's template syllables and 94 Latin characters are
drawn into 200 px writing boxes as a writer would fill them (size jittered by +-JITTER, position jittered,
Latin on the printed baseline), the writing line's phrase is set from the true font (HarfBuzz, its own
advances and kerning) on the line's strip and measured by the given `line_reader` (extraction's
`writing_line.spacing_from_image`, passed in by the CLI), its other paragraph syllables are rendered
straight into the writer's canonical space (a perfect generator), and `package_font` builds our font
from them. Both fonts then set PARAGRAPH with HarfBuzz: the figures are the line's total advance over
the median ink height of its syllables, the spread (CV) of the syllables' ink heights, and x-height
over cap height.

    >>> result = typeset_eval(Path("Gaegu_400Regular.ttf"), "Gaegu Regular", Path("work/"))
    >>> result.advance_ratio, result.cv_ratio
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import uharfbuzz as hb
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from models import glyph_space, hangul
from models.glyph_files import glyph_filename, write_png
from services.packaging.normalize import Spacing
from services.packaging.package import package_font
from services.packaging.spacing_check import true_spacing
from templates.charset import HANGUL, LATIN
from templates.layout import BOX_PX, LATIN_BASELINE, LINE_PHRASE, build_layout

PARAGRAPH = (
    "오늘은 날씨가 맑아서 친구와 함께 공원에 갔다. 우리는 큰 나무 아래에 앉아 이야기를 나누고, "
    "김밥을 먹었다. 바람이 시원하게 불었고 아이들은 뛰어놀았다. 집에 돌아오는 길에 작은 서점에 "
    "들러 책을 한 권 샀다. 내일도 이렇게 좋은 하루가 되면 좋겠다!"
)
LATIN_LINE = "The quick brown fox jumps over the lazy dog, 2024."
RENDER_PX = 150  # the writer's pen size: font pixels per em in a 200 px writing box
JITTER = 0.05  # the writer's size varies this much from box to box
PNG_SIZE = 44  # px per em in the paragraph figures
TUNING_FONTS = (  # pretraining fonts (pretrain.tsv) the typesetting constants were chosen on
    ("Nanum Pen Script", Path("/usr/share/fonts/truetype/nanum/NanumPen.ttf")),
    ("Nanum Brush Script", Path("/usr/share/fonts/truetype/nanum/NanumBrush.ttf")),
)
PNG_WIDTH = 1400
LINE_RENDER = 0.8  # the writer's pen on the writing line, relative to RENDER_PX (running text is smaller)
# Reads a written strip (uint8, 255 paper): (strip, phrase, {syllable: box image}) -> the report entry.
LineReader = Callable[[np.ndarray, str, Mapping[str, np.ndarray]], dict[str, Any]]


@dataclass(frozen=True)
class TextFigures:
    """Text-level measurements of one font setting PARAGRAPH."""

    advance_over_height: float  # total advance of the line / median syllable ink height
    height_cv: float  # std / mean of the paragraph syllables' ink heights
    x_over_cap: float | None  # yMax(x) / yMax(H); None without Latin


@dataclass(frozen=True)
class TypesetResult:
    """Our font's figures against the true font's, and the paragraph figure."""

    font: str
    truth: TextFigures
    ours: TextFigures
    png: Path | None
    line: dict[str, Any] | None = None  # what the writing line read (None: no line reader given)
    spacing: Spacing | None = None  # the true font's own spacing

    @property
    def advance_ratio(self) -> float:
        return self.ours.advance_over_height / self.truth.advance_over_height

    @property
    def cv_ratio(self) -> float:
        return self.ours.height_cv / self.truth.height_cv

    @property
    def x_over_cap_diff(self) -> float | None:
        if self.ours.x_over_cap is None or self.truth.x_over_cap is None:
            return None
        return abs(self.ours.x_over_cap - self.truth.x_over_cap)


def _ink_heights(font: TTFont, chars: str) -> dict[str, tuple[float, float]]:
    """Return {char: (yMin, yMax)} of the inked glyphs for `chars` (characters without ink are left out)."""
    cmap, glyphs = font.getBestCmap(), font.getGlyphSet()
    bounds = {}
    for ch in set(chars):
        name = cmap.get(ord(ch))
        if name is None:
            continue
        pen = BoundsPen(glyphs)
        glyphs[name].draw(pen)
        if pen.bounds is not None:
            bounds[ch] = (pen.bounds[1], pen.bounds[3])
    return bounds


def measure(font_path: Path, text: str = PARAGRAPH) -> TextFigures:
    """Return the text figures of the font at `font_path` setting `text` with HarfBuzz."""
    data = font_path.read_bytes()
    hb_font = hb.Font(hb.Face(data))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(hb_font, buffer, {"kern": True, "calt": True})
    total = sum(pos.x_advance for pos in buffer.glyph_positions)
    font = TTFont(font_path)
    syllables = [ch for ch in text if hangul.is_syllable(ord(ch))]
    bounds = _ink_heights(font, "".join(syllables) + "xH")
    heights = np.array([bounds[ch][1] - bounds[ch][0] for ch in set(syllables) if ch in bounds])
    if heights.size == 0:
        raise ValueError(f"{font_path.name} draws none of the paragraph's syllables")
    x_over_cap = bounds["x"][1] / bounds["H"][1] if "x" in bounds and "H" in bounds else None
    return TextFigures(float(total / np.median(heights)), float(heights.std() / heights.mean()), x_over_cap)


def _box(font: ImageFont.FreeTypeFont, ch: str, rng: np.random.Generator, latin: bool) -> np.ndarray:
    """Return a 200 px writing box with `ch` written in it (Latin on the printed baseline)."""
    image = Image.new("L", (BOX_PX, BOX_PX), 255)
    draw = ImageDraw.Draw(image)
    dx, dy = rng.uniform(-8, 8, size=2)
    if latin:
        draw.text((BOX_PX / 2 + dx, LATIN_BASELINE * BOX_PX), ch, font=font, fill=0, anchor="ms")
    else:
        draw.text((BOX_PX / 2 + dx, BOX_PX / 2 + dy), ch, font=font, fill=0, anchor="mm")
    return np.asarray(image)


def writer_boxes(true_font: Path, seed: int = 0) -> dict[int, np.ndarray]:
    """Return the writing boxes the simulated writer fills with `true_font`'s template characters."""
    rng = np.random.default_rng(seed)
    sizes = {ch: round(RENDER_PX * rng.uniform(1 - JITTER, 1 + JITTER)) for ch in (*HANGUL, *LATIN)}
    fonts = {size: ImageFont.truetype(str(true_font), size) for size in set(sizes.values())}
    cmap = TTFont(true_font).getBestCmap()
    return {
        ord(ch): _box(fonts[sizes[ch]], ch, rng, ch in LATIN) for ch in (*HANGUL, *LATIN) if ord(ch) in cmap
    }


def written_line(
    true_font: Path, phrase: str = LINE_PHRASE, size: float = LINE_RENDER * RENDER_PX
) -> np.ndarray:
    """Return the writing line's strip (uint8, 255 paper) with `phrase` set in `true_font` as shaped text:
    the font's own advances, kerning on, on the printed baseline, starting a little in from the left."""
    line = next(p.line for p in build_layout().pages if p.line is not None)
    x0, y0, x1, y1 = line.box
    image = Image.new("L", (x1 - x0, y1 - y0), 255)
    font = ImageFont.truetype(str(true_font), round(size), layout_engine=ImageFont.Layout.RAQM)
    ImageDraw.Draw(image).text(
        (40, line.baseline * (y1 - y0)), phrase, font=font, fill=0, anchor="ls", features=["kern"]
    )
    return np.asarray(image)


def read_written_line(true_font: Path, line_reader: LineReader, seed: int = 0) -> dict[str, Any]:
    """Run `line_reader` on the strip `true_font` writes, with the writer's Hangul boxes."""
    boxes = {chr(cp): im for cp, im in writer_boxes(true_font, seed).items() if hangul.is_syllable(cp)}
    return line_reader(written_line(true_font), LINE_PHRASE, boxes)


def eval_glyph_dir(
    true_font: Path, out_dir: Path, *, seed: int = 0, extra: Iterable[int] = ()
) -> tuple[set[int], float]:
    """Write the glyph images our font is built from; return (written syllables, writer scale).

    The paragraph's syllables and `extra` ones that were not written are rendered as if generated.
    """
    boxes = writer_boxes(true_font, seed)
    written = glyph_space.inked_syllables(boxes)
    scale = glyph_space.writer_scale(written.values())
    out_dir.mkdir(parents=True, exist_ok=True)
    plain = ImageFont.truetype(str(true_font), RENDER_PX)
    perfect = ({ord(ch) for ch in PARAGRAPH if hangul.is_syllable(ord(ch))} | set(extra)) - set(written)
    images = {cp: glyph_space.to_canonical(im, scale) for cp, im in written.items()}
    for cp in perfect:  # what a perfect generator would draw: the true glyph in the writer's scale
        box = _box(plain, chr(cp), np.random.default_rng(cp), False)
        images[cp] = glyph_space.to_canonical(box, scale)
    images.update({cp: im for cp, im in boxes.items() if not hangul.is_syllable(cp)})
    for cp, image in images.items():
        write_png(out_dir / glyph_filename(cp), image)
    return set(written), scale


def paragraph_png(fonts: list[tuple[str, Path]], out: Path) -> Path:
    """Write a figure of PARAGRAPH and LATIN_LINE set in each font, one block under the other."""
    words = PARAGRAPH.split(" ")
    blocks = []
    for label, path in fonts:
        font = ImageFont.truetype(str(path), PNG_SIZE, layout_engine=ImageFont.Layout.RAQM)
        lines, line = [], ""
        for word in words:
            trial = f"{line} {word}".strip()
            if font.getlength(trial) > PNG_WIDTH - 40 and line:
                lines.append(line)
                trial = word
            line = trial
        lines += [line, LATIN_LINE]
        height = 40 + round(1.4 * PNG_SIZE) * len(lines)
        image = Image.new("L", (PNG_WIDTH, height), 255)
        draw = ImageDraw.Draw(image)
        draw.text((20, 8), label, fill=120)
        for i, text in enumerate(lines):
            draw.text(
                (20, 30 + round(1.4 * PNG_SIZE) * i), text, font=font, fill=0, features=["kern", "calt"]
            )
        blocks.append(np.asarray(image))
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(blocks)).save(out, optimize=True)
    return out


def typeset_eval(
    true_font: Path,
    name: str,
    workdir: Path,
    png_dir: Path | None = None,
    line_reader: LineReader | None = None,
) -> TypesetResult:
    """Build our font from `true_font`'s template glyphs and compare the two setting PARAGRAPH.

    With a `line_reader` the writer also writes the writing line and the font uses the spacing it reads
    (the default spacing when it reads none); without one the default spacing is used."""
    glyph_dir = workdir / "glyphs"
    written, scale = eval_glyph_dir(true_font, glyph_dir)
    line = read_written_line(true_font, line_reader) if line_reader else None
    spacing = Spacing(line["gap"], line["space"]) if line and line["status"] == "measured" else None
    report = package_font(
        glyph_dir, workdir / "eval.ttf", f"Eval {name}", written=written, hangul_box_scale=scale,
        spacing=spacing,
    )
    png = None
    if png_dir is not None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        png = paragraph_png(
            [(f"{name} (true font)", true_font), ("ours (from its template glyphs)", report.ttf)],
            png_dir / f"paragraph-{slug}.png",
        )
    return TypesetResult(name, measure(true_font), measure(report.ttf), png, line, true_spacing(true_font))


SECTION_START, SECTION_END = "<!-- typesetting:start -->", "<!-- typesetting:end -->"


def write_section(markdown: Path, section: str) -> Path:
    """Put `section` into `markdown` between the markers (replacing the old one, or appended)."""
    text = markdown.read_text(encoding="utf-8") if markdown.is_file() else "# Quality\n"
    if SECTION_START in text and SECTION_END in text:
        head, rest = text.split(SECTION_START, 1)
        text = head + section + rest.split(SECTION_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    markdown.parent.mkdir(parents=True, exist_ok=True)
    tmp = markdown.with_name(f".{markdown.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(markdown)
    return markdown
