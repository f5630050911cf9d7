"""Font files as glyph datasets: render syllables through FreeType and keep only glyphs with real ink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from models import glyph_space

RENDER_EM = 128  # render size in pixels per em; canonicalization then scales it down slightly
_CANVAS = 2 * RENDER_EM


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: its display name, path, face index in a collection and style class."""

    name: str
    path: Path
    index: int = 0
    style_class: str = "print-sans"

    def open(self, size: int = RENDER_EM) -> ImageFont.FreeTypeFont:
        """Return a Pillow font on FreeType with the BASIC layout (raqm would split missing syllables)."""
        if not self.path.is_file():
            raise ValueError(f"font file {self.path} does not exist; run `python3 -m models.fontset install`")
        return ImageFont.truetype(
            str(self.path), size, index=self.index, layout_engine=ImageFont.Layout.BASIC
        )

    def cmap(self) -> set[int]:
        """Return the codepoints the font's cmap claims (it may still draw some of them empty)."""
        with TTFont(str(self.path), fontNumber=self.index, lazy=True) as font:
            return set(font.getBestCmap() or {})


def render(font: ImageFont.FreeTypeFont, codepoint: int) -> np.ndarray:
    """Return the glyph of `codepoint` drawn dark on white in a square canvas (uint8, 2 em wide).

    Composite (jamo-assembled) glyphs come out right because FreeType rasterizes the whole outline.
    """
    image = Image.new("L", (_CANVAS, _CANVAS), 255)
    ImageDraw.Draw(image).text((_CANVAS / 2, _CANVAS / 2), chr(codepoint), font=font, fill=0, anchor="mm")
    return np.asarray(image)


def has_ink(image: np.ndarray, min_pixels: int = 20) -> bool:
    """True if the rendered glyph has at least `min_pixels` ink pixels (cmaps claim empty glyphs)."""
    return int((image < glyph_space.INK_THRESHOLD).sum()) >= min_pixels


def render_set(face: FontFace, codepoints: Sequence[int]) -> dict[int, np.ndarray]:
    """Return the raw renders of those `codepoints` that the face really draws (in its cmap, with ink)."""
    claimed = face.cmap()
    font = face.open()
    out: dict[int, np.ndarray] = {}
    for cp in codepoints:
        if cp in claimed:
            image = render(font, cp)
            if has_ink(image):
                out[cp] = image
    return out


def canonical_set(
    face: FontFace, codepoints: Sequence[int], scale: float | None = None
) -> tuple[dict[int, np.ndarray], float]:
    """Return (codepoint -> canonical 128x128 glyph, scale) for the glyphs the face draws.

    The scale is computed from this set with `glyph_space.writer_scale` unless given.
    Raises ValueError if the face draws none of the codepoints.
    """
    raw = render_set(face, codepoints)
    if not raw:
        raise ValueError(f"font {face.name} draws none of the {len(codepoints)} requested characters")
    if scale is None:
        scale = glyph_space.writer_scale(raw.values())
    return {cp: glyph_space.to_canonical(im, scale) for cp, im in raw.items()}, scale
