"""Renders a sample of Korean and Latin text with a finished TTF (FreeType via Pillow) into a PNG.

The preview is drawn from the font file, not the glyph bitmaps, so it shows what a user will get:
a missing syllable shows up as the .notdef box.

    >>> render_preview(Path("hong.ttf"))           # PIL.Image.Image, RGB
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SAMPLE_LINES = (
    "다람쥐 헌 쳇바퀴에 타고파",
    "키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다",
    "The quick brown fox jumps over the lazy dog",
    "0123456789 !?.,:;'\"()[]{}<>@#$%&*+-=/_~",
)
FONT_SIZE = 48
CAPTION_SIZE = 18
MARGIN = 32
LINE_SPACING = 1.35
WIDTH_LIMIT = 2400  # pixels; longer lines are clipped rather than making the image enormous


def _load(ttf: Path | bytes, size: int) -> ImageFont.FreeTypeFont:
    """Open the font at `size` with Pillow's BASIC layout (a fresh reader: FreeType consumes it)."""
    source = ttf if isinstance(ttf, Path) else io.BytesIO(ttf)
    return ImageFont.truetype(source, size, layout_engine=ImageFont.Layout.BASIC)


def render_preview(ttf: Path | bytes, *, caption: str = "") -> Image.Image:
    """Return an RGB image of SAMPLE_LINES set in the font at `ttf` (a path or the TTF bytes).

    Pillow's BASIC layout is used so a missing syllable is shown as .notdef instead of being decomposed
    into jamo by raqm. Raises OSError if FreeType cannot read the font.
    """
    font = _load(ttf, FONT_SIZE)
    line_height = round(FONT_SIZE * LINE_SPACING)
    widths = [font.getlength(line) for line in SAMPLE_LINES]
    width = min(int(max(widths)) + 2 * MARGIN, WIDTH_LIMIT)
    caption_height = round(CAPTION_SIZE * 2) if caption else 0
    height = 2 * MARGIN + caption_height + line_height * len(SAMPLE_LINES)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if caption:
        draw.text((MARGIN, MARGIN // 2), caption, fill=(110, 110, 110), font=_load(ttf, CAPTION_SIZE))
    ascent, _ = font.getmetrics()
    for i, line in enumerate(SAMPLE_LINES):
        top = MARGIN + caption_height + i * line_height
        # A faint baseline helps to judge whether the glyphs sit on one line.
        baseline = top + ascent
        draw.line((MARGIN, baseline, width - MARGIN, baseline), fill=(225, 232, 245), width=1)
        draw.text((MARGIN, top), line, fill="black", font=font)
    return image


def preview_png(ttf: Path | bytes, *, caption: str = "") -> bytes:
    """Return the preview as PNG bytes (deterministic for the same font and caption)."""
    out = io.BytesIO()
    render_preview(ttf, caption=caption).save(out, format="PNG", optimize=True)
    return out.getvalue()
