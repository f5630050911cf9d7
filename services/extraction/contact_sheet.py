"""Draw every cell of an extraction on one image, framed in its status colour and labelled, for a person."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from templates.render import TEXT_FONT

if TYPE_CHECKING:
    from services.extraction.results import CellResult

TILE_PX = 96  # glyph thumbnail side
FRAME_PX = 4
LABEL_PX = 22
COLUMNS = 20
LEGEND_PX = 40
# Colour-blind-safe-ish (Okabe-Ito) colours per status; ok is the quiet one so problems stand out.
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "ok": (0, 158, 115),
    "empty": (160, 160, 160),
    "faint": (240, 228, 66),
    "overflow": (230, 159, 0),
    "smudged": (204, 121, 167),
    "outside": (86, 180, 233),
    "glare": (0, 114, 178),  # a photo problem, like outside
    "missing": (213, 94, 0),
}
UNKNOWN_COLOUR = (0, 0, 0)


def _has_hangul() -> bool:
    return Path(TEXT_FONT).is_file()


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font with Hangul if the Nanum fonts are installed; Pillow's built-in font otherwise."""
    if _has_hangul():
        return ImageFont.truetype(str(TEXT_FONT), size)
    return ImageFont.load_default()


def _tile(cell: CellResult) -> Image.Image:
    colour = STATUS_COLOURS.get(cell.status, UNKNOWN_COLOUR)
    side = TILE_PX + 2 * FRAME_PX
    tile = Image.new("RGB", (side, side + LABEL_PX), (255, 255, 255))
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, side - 1, side - 1), fill=colour)
    if cell.image is not None:
        glyph = Image.fromarray(cell.image).resize((TILE_PX, TILE_PX), Image.Resampling.BOX).convert("RGB")
        tile.paste(glyph, (FRAME_PX, FRAME_PX))
    else:
        draw.rectangle((FRAME_PX, FRAME_PX, side - FRAME_PX - 1, side - FRAME_PX - 1), fill=(235, 235, 235))
    # Korean fonts draw the backslash as a won sign; the code point is unambiguous.
    text = f"U+{cell.codepoint:04X}" if cell.char == "\\" or not _has_hangul() else cell.char
    draw.text((2, side + 2), text, font=_font(16), fill=(0, 0, 0))
    status_colour = (90, 90, 90) if cell.status == "ok" else colour
    draw.text((side - 2, side + 4), cell.status, font=_font(12), fill=status_colour, anchor="ra")
    return tile


def contact_sheet(cells: Sequence[CellResult]) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB image of all cells in order, each framed in its status colour, with a
    legend counting the statuses on top."""
    side = TILE_PX + 2 * FRAME_PX
    pitch_x, pitch_y = side + 6, side + LABEL_PX + 6
    rows = max(1, -(-len(cells) // COLUMNS))
    sheet = Image.new("RGB", (COLUMNS * pitch_x + 6, LEGEND_PX + rows * pitch_y + 6), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    x = 8
    for status, count in sorted(Counter(c.status for c in cells).items()):
        colour = STATUS_COLOURS.get(status, UNKNOWN_COLOUR)
        draw.rectangle((x, 10, x + 20, 30), fill=colour)
        label = f"{status} {count}"
        draw.text((x + 26, 10), label, font=_font(18), fill=(0, 0, 0))
        x += 26 + int(draw.textlength(label, font=_font(18))) + 24
    for index, cell in enumerate(cells):
        row, column = divmod(index, COLUMNS)
        sheet.paste(_tile(cell), (6 + column * pitch_x, LEGEND_PX + 6 + row * pitch_y))
    return np.asarray(sheet)
