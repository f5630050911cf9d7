"""Repair of generated syllables: any the fine-tuned generator drew blank, as a blot or at an absurd size
is redrawn by the pretrained generator in the writer's seed styles, or else taken from the source font.

A short or unlucky fine-tune can leave a handful of the 11,172 syllables unusable; the packager would
then have to drop them and the font would miss characters. Repairing them here keeps every syllable
in the font and says which ones were replaced.

    >>> repaired = repair_generated(glyph_dir, Path("writer.pt"), models.weights_path())
    >>> repaired[0xAC00]   # 'redrawn in the seed styles: no ink'
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from statistics import median
from typing import Any

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul
from models.generate import draw
from models.glyph_files import glyph_filename, write_png
from models.networks import Generator
from models.source import source_glyphs

# Stricter than the packager's limits (glyph_space.ABSURD_SIZE, BLOT_INK_FRACTION), so that a glyph
# that passes here is never refused there, where outlines rather than pixels are measured.
SAFETY = 1.1
SIZE_BAND = (glyph_space.ABSURD_SIZE[0] * SAFETY, glyph_space.ABSURD_SIZE[1] / SAFETY)
BLOT_FRACTION = glyph_space.BLOT_INK_FRACTION / SAFETY


MIN_STROKE_AREA = 6  # pixels: darker fragments smaller than this trace to nothing (potrace drops them)


def traceable_ink(image: np.ndarray) -> np.ndarray:
    """Return the mask of ink the tracer will draw: darker than the edge level, in pieces big enough."""
    gray = np.asarray(image)
    dark = (glyph_space.ink_mask(gray) & (gray < glyph_space.EDGE_LEVEL)).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    keep = np.concatenate([[False], stats[1:, cv2.CC_STAT_AREA] >= MIN_STROKE_AREA])
    return np.asarray(keep[labels], dtype=bool)


def glyph_problem(image: np.ndarray, typical_extent: float) -> str | None:
    """Return why a canonical syllable image is unusable (blank, too faint, a blot, an absurd size), or
    None if it is fine. `typical_extent` is the median traceable-ink extent (pixels) it is compared with.
    """
    ink = glyph_space.ink_mask(image)
    if not ink.any():
        return "no ink"
    if ink.mean() > BLOT_FRACTION:
        return f"ink covers {ink.mean():.0%} of the image"
    traceable = traceable_ink(image)
    if not traceable.any():
        return "the ink is too faint or too broken to trace"
    ratio = glyph_space.mask_extent(traceable) / typical_extent
    if not SIZE_BAND[0] <= ratio <= SIZE_BAND[1]:
        return f"ink is {ratio:.2f} times the median syllable size"
    return None


def find_broken(
    glyph_dir: Path, skip: Collection[int] = (), codepoints: Collection[int] | None = None
) -> tuple[dict[int, str], float]:
    """Check the syllable images in `glyph_dir` (all 11,172 unless `codepoints` says otherwise) except
    `skip`; return ({code point: problem}, median ink extent). A missing or unreadable image is broken.
    """
    images: dict[int, np.ndarray | None] = {}
    for cp in hangul.all_syllables() if codepoints is None else codepoints:
        if cp not in skip:
            images[cp] = cv2.imread(str(glyph_dir / glyph_filename(cp)), cv2.IMREAD_GRAYSCALE)
    extents = [glyph_space.mask_extent(traceable_ink(im)) for im in images.values() if im is not None]
    typical = median([e for e in extents if e > 0] or [glyph_space.TARGET_EXTENT])
    broken: dict[int, str] = {}
    for cp, image in images.items():
        problem = "missing" if image is None else glyph_problem(image, typical)
        if problem:
            broken[cp] = problem
    return broken, typical


def seed_style(base: Generator, base_meta: dict[str, Any], writer_meta: dict[str, Any]) -> torch.Tensor:
    """The style vector the writer's fine-tune started from: the mix of its seed fonts in `base`."""
    names = [font["name"] for font in base_meta.get("fonts", [])]
    seeds = [(names.index(n), w) for n, w in writer_meta.get("seeds", []) if n in names]
    with torch.no_grad():
        if not seeds:
            return base.styles.weight[0].detach().clone()
        return sum(w * base.styles.weight[i] for i, w in seeds).detach()


def repair_generated(
    glyph_dir: Path,
    checkpoint: Path,
    base_weights: Path,
    *,
    skip: Collection[int] = (),
    codepoints: Collection[int] | None = None,
    device: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, str]:
    """Replace the broken syllables in `glyph_dir` (see `find_broken`); return {code point: what was done}.

    `checkpoint` is the writer's fine-tuned generator (for its seed fonts), `base_weights` the pretrained
    one. `skip` holds code points not to touch (the writer's own glyphs); `codepoints` limits the check
    (tests).
    """
    broken, typical = find_broken(Path(glyph_dir), skip, codepoints)
    if progress is not None:
        progress(0, max(len(broken), 1))
    if not broken:
        return {}
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    base, base_meta = checkpoints.load_generator(base_weights, device)
    _, writer_meta = checkpoints.load_generator(checkpoint, "cpu")
    cps = sorted(broken)
    redrawn = draw(base, base_meta, cps, seed_style(base, base_meta, writer_meta))
    fallback = source_glyphs(base_meta["source_font"], cps, glyph_space.SIZE)
    done: dict[int, str] = {}
    for i, cp in enumerate(cps):
        if glyph_problem(redrawn[i], typical) is None:
            image, how = redrawn[i], "redrawn in the seed styles"
        else:
            image, how = fallback[i], "taken from the source font"
        write_png(Path(glyph_dir) / glyph_filename(cp), image)
        done[cp] = f"{how} (the fine-tuned generator's glyph: {broken[cp]})"
        if progress is not None:
            progress(i + 1, len(cps))
    return done
