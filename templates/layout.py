"""Page geometry of the handwriting template: one source for printing it and for reading photos of it.

Coordinates are page pixels at 300 dpi, origin at the top-left of the A4 sheet, x to the right, y down.
Boxes are half-open `(x0, y0, x1, y1)`: width is `x1 - x0`. Marker corners follow cv2.aruco: the centres
of the outermost pixels of the printed black square, in the order TL, TR, BR, BL.

    >>> from templates.layout import build_layout, decode_marker
    >>> layout = build_layout()
    >>> page = layout.page(1)
    >>> decode_marker(page.markers[0].id)  # (version, page, position)
    ('v1', 1, 0)
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import cv2

from templates.charset import HANGUL, LATIN

TEMPLATE_VERSION: str = "v1"
DPI: int = 300
PAGE_SIZE_PX: tuple[int, int] = (2480, 3508)  # A4, 210 x 297 mm
ARUCO_DICTIONARY: int = cv2.aruco.DICT_4X4_250

# Latin writing boxes carry a printed baseline; descenders get the 30 % below it.
LATIN_BASELINE: float = 0.70
LATIN_XHEIGHT: float = 0.45

MM: float = DPI / 25.4  # pixels per millimetre

# Markers: 4x4 bits + 1-bit black border = 6 modules of 34 px = 17.3 mm. The distance to the paper
# edge (8.5 mm) keeps them inside what office printers print; QUIET_ZONE_PX of white surrounds each.
MARKER_SIZE_PX: int = 204
MARGIN_PX: int = 100
QUIET_ZONE_PX: int = 40
# Positions on a page: corners plus top/bottom middle, so a photo missing one corner still shows 5.
MARKER_POSITIONS: tuple[str, ...] = (
    "top-left",
    "top-middle",
    "top-right",
    "bottom-left",
    "bottom-middle",
    "bottom-right",
)

# Cells: a 200 px (16.9 mm) square writing box with its label strip (the printed target) above it.
BOX_PX: int = 200
LABEL_HEIGHT_PX: int = 44  # 3.7 mm
LABEL_GAP_PX: int = 4
COLUMNS: int = 10
ROWS: int = 10
COLUMN_GAP_PX: int = 26
ROW_GAP_PX: int = 22
GRID_TOP_PX: int = 476  # below the marker row and the two instruction lines
CELLS_PER_PAGE: int = COLUMNS * ROWS

# Marker ids: each template version owns a block of IDS_PER_VERSION ids in the dictionary (250 ids:
# versions v0..v9). Inside the block, id = (page - 1) * len(MARKER_POSITIONS) + position.
# The writing line: a ruled strip in the free slots of the last page's last row where the writer writes
# LINE_PHRASE as they normally write, so their spacing in running text can be measured. Its syllables are
# all template syllables with stacked (horizontal) vowels, so the ink of one syllable has no column gap.
LINE_PHRASE: str = "우주를 보는"
LINE_MIN_SLOTS: int = 5  # free cells the last row must have for the line to be printed
LINE_INSET_PX: int = 40  # kept clear after the last cell, beyond its overflow ring
LINE_TEXT_PX: int = 84  # instructions printed above the strip
LINE_BASELINE: float = 0.72  # printed baseline of the strip, from its top

IDS_PER_VERSION: int = 24
MAX_PAGES: int = IDS_PER_VERSION // len(MARKER_POSITIONS)
_VERSION_RE = re.compile(r"v(\d)")


@dataclass(frozen=True)
class Marker:
    """One printed ArUco marker: its id and its 4 corners (TL, TR, BR, BL) in page pixels."""

    id: int
    corners: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Cell:
    """One character to write: its writing box and, outside it, the strip where the target is printed."""

    char: str
    codepoint: int
    script: str  # "hangul" | "latin"
    box: tuple[int, int, int, int]
    label_box: tuple[int, int, int, int]


@dataclass(frozen=True)
class WritingLine:
    """A ruled strip where `phrase` is written in running text; it shows how far apart syllables are set."""

    phrase: str
    box: tuple[int, int, int, int]  # the writing strip
    label_box: tuple[int, int, int, int]  # the instructions, above it
    baseline: float  # printed baseline, as a share of the strip height from its top


@dataclass(frozen=True)
class Page:
    """One printed sheet: 1-based number, size in pixels, its markers, its cells and its writing line."""

    page: int
    size_px: tuple[int, int]
    markers: tuple[Marker, ...]
    cells: tuple[Cell, ...]
    line: WritingLine | None = None


@dataclass(frozen=True)
class Layout:
    """The whole template: every page of one template version."""

    template_version: str
    dpi: int
    pages: tuple[Page, ...]

    def page(self, number: int) -> Page:
        """Return page `number` (1-based); raise ValueError if the template has no such page."""
        if not 1 <= number <= len(self.pages):
            raise ValueError(
                f"template {self.template_version} has pages 1 to {len(self.pages)}, not {number}"
            )
        return self.pages[number - 1]

    def to_json(self) -> dict[str, Any]:
        """Return the layout.json document (plain lists and numbers, ready for json.dump)."""
        return {
            "template_version": self.template_version,
            "dpi": self.dpi,
            "latin_baseline": LATIN_BASELINE,
            "latin_xheight": LATIN_XHEIGHT,
            "aruco_dictionary": "DICT_4X4_250",
            "pages": [
                {
                    "page": p.page,
                    "size_px": list(p.size_px),
                    "markers": [
                        {
                            "id": m.id,
                            "position": _position_name(m.id),
                            "corners": [list(c) for c in m.corners],
                        }
                        for m in p.markers
                    ],
                    "cells": [
                        {
                            "char": c.char,
                            "codepoint": c.codepoint,
                            "script": c.script,
                            "box": list(c.box),
                            "label_box": list(c.label_box),
                        }
                        for c in p.cells
                    ],
                    **({"line": _line_json(p.line)} if p.line else {}),
                }
                for p in self.pages
            ],
        }


def _line_json(line: WritingLine) -> dict[str, Any]:
    return {"phrase": line.phrase, "box": list(line.box), "label_box": list(line.label_box),
            "baseline": line.baseline}


def version_number(template_version: str) -> int:
    """Return the number of a version name such as "v1"; raise ValueError for other names."""
    match = _VERSION_RE.fullmatch(template_version)
    if not match:
        raise ValueError(f"template version must look like 'v0' to 'v9', got {template_version!r}")
    return int(match.group(1))


def marker_id(template_version: str, page: int, position: int) -> int:
    """Return the ArUco id printed at `position` (index into MARKER_POSITIONS) on `page` of a version."""
    if not 1 <= page <= MAX_PAGES:
        raise ValueError(f"page must be between 1 and {MAX_PAGES}, got {page}")
    if not 0 <= position < len(MARKER_POSITIONS):
        raise ValueError(f"marker position must be between 0 and {len(MARKER_POSITIONS) - 1}, got {position}")
    base = version_number(template_version) * IDS_PER_VERSION
    return base + (page - 1) * len(MARKER_POSITIONS) + position


def decode_marker(marker_id: int) -> tuple[str, int, int] | None:
    """Return (template_version, page, position) encoded in an id, or None for ids no version uses."""
    if not 0 <= marker_id < 10 * IDS_PER_VERSION:
        return None
    version, offset = divmod(marker_id, IDS_PER_VERSION)
    page, position = divmod(offset, len(MARKER_POSITIONS))
    return f"v{version}", page + 1, position


def version_of_marker(marker_id: int) -> str | None:
    """Return the template version an id belongs to ("v0".."v9"), or None for ids no version uses."""
    decoded = decode_marker(marker_id)
    return decoded[0] if decoded else None


def is_current_marker(marker_id: int) -> bool:
    """Return True if the id belongs to TEMPLATE_VERSION (the version this code prints and reads)."""
    return version_of_marker(marker_id) == TEMPLATE_VERSION


def _position_name(marker_id: int) -> str:
    decoded = decode_marker(marker_id)
    return MARKER_POSITIONS[decoded[2]] if decoded else "unknown"


def _marker_origins() -> tuple[tuple[int, int], ...]:
    """Top-left pixel of each marker position, in MARKER_POSITIONS order."""
    width, height = PAGE_SIZE_PX
    left, right = MARGIN_PX, width - MARGIN_PX - MARKER_SIZE_PX
    middle = (width - MARKER_SIZE_PX) // 2
    top, bottom = MARGIN_PX, height - MARGIN_PX - MARKER_SIZE_PX
    return ((left, top), (middle, top), (right, top), (left, bottom), (middle, bottom), (right, bottom))


def _markers(page: int) -> tuple[Marker, ...]:
    last = float(MARKER_SIZE_PX - 1)  # cv2.aruco reports the centres of the outermost pixels
    markers = []
    for position, (x, y) in enumerate(_marker_origins()):
        corners = ((x, y), (x + last, y), (x + last, y + last), (x, y + last))
        markers.append(
            Marker(
                marker_id(TEMPLATE_VERSION, page, position),
                tuple((float(cx), float(cy)) for cx, cy in corners),
            )
        )
    return tuple(markers)


def _cells(chars: tuple[str, ...], script: str) -> tuple[Cell, ...]:
    grid_width = COLUMNS * BOX_PX + (COLUMNS - 1) * COLUMN_GAP_PX
    left = (PAGE_SIZE_PX[0] - grid_width) // 2
    cells = []
    for index, char in enumerate(chars):
        row, column = divmod(index, COLUMNS)
        x0 = left + column * (BOX_PX + COLUMN_GAP_PX)
        label_y0 = GRID_TOP_PX + row * (LABEL_HEIGHT_PX + LABEL_GAP_PX + BOX_PX + ROW_GAP_PX)
        y0 = label_y0 + LABEL_HEIGHT_PX + LABEL_GAP_PX
        cells.append(
            Cell(
                char,
                ord(char),
                script,
                (x0, y0, x0 + BOX_PX, y0 + BOX_PX),
                (x0, label_y0, x0 + BOX_PX, label_y0 + LABEL_HEIGHT_PX),
            )
        )
    return tuple(cells)


def _writing_line(cells: tuple[Cell, ...]) -> WritingLine | None:
    """The writing line in the free slots after the last cell, when its row has LINE_MIN_SLOTS of them."""
    used = len(cells) % COLUMNS
    if used == 0 or COLUMNS - used < LINE_MIN_SLOTS:
        return None
    last = cells[-1]
    x0 = last.box[2] + COLUMN_GAP_PX + LINE_INSET_PX
    x1 = last.box[2] + (COLUMNS - used) * (BOX_PX + COLUMN_GAP_PX)  # the right edge of the grid
    top, bottom = last.label_box[1], last.box[3]
    strip, text = (x0, top + LINE_TEXT_PX, x1, bottom), (x0, top, x1, top + LINE_TEXT_PX - 8)
    return WritingLine(LINE_PHRASE, strip, text, LINE_BASELINE)


def _chunks(chars: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [chars[i : i + CELLS_PER_PAGE] for i in range(0, len(chars), CELLS_PER_PAGE)]


@functools.cache
def build_layout() -> Layout:
    """Return the layout of TEMPLATE_VERSION: Hangul pages first, then Latin; same result every call."""
    sheets = [(chunk, "hangul") for chunk in _chunks(HANGUL)] + [(chunk, "latin") for chunk in _chunks(LATIN)]
    if len(sheets) > MAX_PAGES:
        raise ValueError(f"the character set needs {len(sheets)} pages; marker ids allow {MAX_PAGES}")
    pages = []
    for number, (chars, script) in enumerate(sheets, start=1):
        cells = _cells(chars, script)
        line = _writing_line(cells) if number == len(sheets) else None
        pages.append(Page(number, PAGE_SIZE_PX, _markers(number), cells, line))
    return Layout(TEMPLATE_VERSION, DPI, tuple(pages))


def layout_json_text(layout: Layout) -> str:
    """Return layout.json as text: valid JSON with one marker or cell per line, so diffs stay readable."""
    doc = layout.to_json()
    one = functools.partial(json.dumps, ensure_ascii=False)
    head = ",\n".join(f" {one(k)}: {one(v)}" for k, v in doc.items() if k != "pages")
    pages = []
    for page in doc["pages"]:
        markers = ",\n".join(f"    {one(m)}" for m in page["markers"])
        cells = ",\n".join(f"    {one(c)}" for c in page["cells"])
        line = f',\n   "line": {one(page["line"])}' if "line" in page else ""
        pages.append(
            f'  {{"page": {page["page"]}, "size_px": {one(page["size_px"])},\n'
            f'   "markers": [\n{markers}\n   ],\n   "cells": [\n{cells}\n   ]{line}}}'
        )
    return "{\n" + head + ',\n "pages": [\n' + ",\n".join(pages) + "\n ]\n}\n"


def main() -> int:
    """Print layout.json of the current version (regenerates the golden templates/data/layout-v1.json)."""
    print(layout_json_text(build_layout()), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
