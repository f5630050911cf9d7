"""Reads a writer's spacing again from the stored upload of the page that carries the writing line.

A build through the service starts from what uploads stored: glyph images and the photos. The writing line
(`services.extraction.writing_line`) is sized against the writer's Hangul boxes, which may have been
uploaded after the line's page, so it is read at build time from that page's stored photo (or PDF).

    >>> page = line_page()                                          # 3: the Latin page
    >>> spacing_from_upload(photo_bytes, "page3.jpg", glyphs)       # doctest: +SKIP
    {'status': 'measured', 'gap': 0.06, 'space': 0.33, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models import hangul
from services.extraction.extract import extract_file
from services.extraction.writing_line import estimate_spacing
from templates.layout import build_layout


def line_page() -> int | None:
    """The template page that carries the writing line, or None when the layout has none."""
    return next((p.page for p in build_layout().pages if p.line is not None), None)


def spacing_from_upload(data: bytes, name: str, glyphs: Mapping[int, np.ndarray]) -> dict[str, Any]:
    """Read the writing line from an uploaded file and size it against `glyphs` (codepoint -> writing-box
    image). Returns `estimate_spacing`'s report entry; "not written" when the file shows no line."""
    layout = build_layout()
    boxes = {chr(cp): image for cp, image in glyphs.items() if hangul.is_syllable(cp)}
    for page in extract_file(data, name):
        line = layout.page(page.page).line
        if line is not None and page.line is not None:
            return estimate_spacing(page.line, line.phrase, boxes)
    return {"status": "not written", "message": "the writing line is not in the stored upload"}
