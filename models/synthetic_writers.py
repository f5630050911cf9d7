"""Synthetic writers: new handwriting styles made from the pretraining fonts, so the style space is wider.

Thirteen handwriting designs are too few hands for a model that must match a fourteenth. Each synthetic
writer is one pretraining handwriting face redrawn through a fixed transform of its own: stroke weight,
slant, aspect, a smooth elastic field (so components shift and resize a little, consistently across
every syllable, as one person's habits do) and pen texture. The transform is fixed per writer, so the
generator can learn it as a style; only the joint source/target shift varies per sample.

    >>> writers = make_writers(fonts, per_font=6, seed=0)             # doctest: +SKIP
    >>> glyph = writers[0].apply(targets[writers[0].base_font, i])    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

# Ranges of the transforms (drawn uniformly per writer). Chosen so that a synthetic glyph stays legible
# and inside the 128 px canvas; see MODEL_CARD.md for the recipe.
STROKE_RANGE = (-0.7, 1.5)  # pixels of grey-level erosion (-) / dilation (+) at 128 px
SLANT_RANGE = (-0.18, 0.18)  # horizontal shear (x += slant * (centre_y - y))
ASPECT_RANGE = (0.86, 1.12)  # horizontal scale about the centre
ELASTIC_PX = (1.5, 4.5)  # amplitude of the smooth displacement field
ELASTIC_CELLS = 3  # the field is a 3x3 grid of random offsets, smoothly interpolated
TEXTURE_RANGE = (0.0, 0.3)  # share of ink pixels lightened by a fixed grain (dry pen; heavy strokes only)
TEXTURE_LIGHTEN = 60  # grey levels a grain pixel loses: lighter, never gone (no broken strokes to learn)


@dataclass(frozen=True)
class SyntheticWriter:
    """One synthetic hand: a base font and the fixed transform that turns its glyphs into this writer's."""

    base_font: int
    stroke: float
    slant: float
    aspect: float
    elastic: float
    texture: float
    seed: int

    def to_json(self) -> dict[str, Any]:
        """The writer as plain numbers (saved with checkpoints and in the model card)."""
        return asdict(self)

    def maps(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Return cv2.remap maps (x, y) for this writer's geometry (slant, aspect, elastic field)."""
        rng = np.random.default_rng(self.seed)
        grid = rng.uniform(-1.0, 1.0, size=(2, ELASTIC_CELLS, ELASTIC_CELLS)).astype(np.float32)
        field = [cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC) * self.elastic for g in grid]
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        centre = (size - 1) / 2.0
        # Inverse mapping: the output pixel (x, y) samples the input at (map_x, map_y).
        map_x = (xs - centre) / self.aspect + centre - self.slant * (centre - ys) + field[0]
        map_y = ys + field[1]
        return map_x.astype(np.float32), map_y.astype(np.float32)

    def grain(self, size: int) -> np.ndarray:
        """Return the fixed pen-texture mask: True where a dry pen leaves ink lighter."""
        rng = np.random.default_rng(self.seed + 1)
        noise = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 1.2)
        return noise > np.quantile(noise, 1.0 - self.texture)


class WriterBank:
    """Precomputed maps of a list of synthetic writers at one glyph size; applies them to glyph batches."""

    def __init__(self, writers: list[SyntheticWriter], size: int) -> None:
        self.writers = writers
        self.size = size
        self._maps = [w.maps(size) for w in writers]
        self._grain = [w.grain(size) for w in writers]

    def apply(self, index: int, glyph: np.ndarray) -> np.ndarray:
        """Return `glyph` (uint8, white 255 / ink 0) as synthetic writer `index` draws it."""
        writer = self.writers[index]
        map_x, map_y = self._maps[index]
        out = cv2.remap(glyph, map_x, map_y, cv2.INTER_LINEAR, borderValue=255)
        out = _stroke(out, writer.stroke * self.size / 128.0)
        if writer.texture > 0 and writer.stroke > 0:
            grain = self._grain[index] & (out < 128)
            out = out.copy()
            out[grain] = np.minimum(255, out[grain].astype(np.int16) + TEXTURE_LIGHTEN).astype(np.uint8)
        return out


def _stroke(glyph: np.ndarray, pixels: float) -> np.ndarray:
    """Thicken (pixels > 0) or thin (< 0) the ink by a fractional number of pixels (grey morphology)."""
    if abs(pixels) < 0.05:
        return glyph
    whole, frac = int(abs(pixels)), abs(pixels) - int(abs(pixels))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    op = cv2.erode if pixels > 0 else cv2.dilate  # ink is dark: eroding the image thickens the ink
    out = op(glyph, kernel, iterations=whole) if whole else glyph
    if frac > 0:
        more = op(out, kernel, iterations=1)
        out = cv2.addWeighted(out, 1.0 - frac, more, frac, 0.0)
    return out


def make_writers(fonts: list[dict[str, Any]], per_font: int, seed: int = 0) -> list[SyntheticWriter]:
    """Return `per_font` synthetic writers for every handwriting face in `fonts` (deterministic in seed)."""
    rng = np.random.default_rng(seed + 7919)
    writers = []
    for index, font in enumerate(fonts):
        if not str(font.get("style_class", "")).startswith("handwriting"):
            continue
        for _ in range(per_font):
            writers.append(
                SyntheticWriter(
                    base_font=index,
                    stroke=float(rng.uniform(*STROKE_RANGE)),
                    slant=float(rng.uniform(*SLANT_RANGE)),
                    aspect=float(rng.uniform(*ASPECT_RANGE)),
                    elastic=float(rng.uniform(*ELASTIC_PX)),
                    texture=float(rng.uniform(*TEXTURE_RANGE)) if rng.random() < 0.4 else 0.0,
                    seed=int(rng.integers(0, 2**31 - 1)),
                )
            )
    return writers
