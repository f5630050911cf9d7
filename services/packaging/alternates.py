"""Draws 2 alternates of the most frequent syllables with the writer's own generator, for `calt` to cycle.

Handwriting never repeats exactly. The writer's fine-tuned generator draws each frequent syllable again
with its style vector moved a little (STYLE_STEP) towards each of the pretraining styles it was seeded
from: the same hand, other strokes. An alternate is kept only when it is a usable glyph (`models.repair`)
and neither a copy of the glyph it varies nor a different shape. The files are `U+XXXX.alt1.png`,
`U+XXXX.alt2.png` beside the glyphs; `package_font` turns them into glyphs that `calt` cycles through.
Nothing is made up below the generator: no outline is jittered.

    >>> written = draw_alternates(Path("writer.pt"), base_weights, Path("glyphs/"))   # {cp: 2, ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models import glyph_space
from models.glyph_files import write_png
from services.packaging.jamo import source_syllables

# The most frequent syllables of written Korean (laughter and crying included), and the syllables the
# jamo ㅋ ㅎ ㅠ ㅜ are cut from, so that ㅋㅋㅋ, ㅎㅎ, ㅠㅠ vary too.
FREQUENT = (
    "이다는의에가고하을지기서로한를은도사리어대나자아시수들게해요라인으거있그마면보내우주만일상여"
    "정전히니부비소없했하하호헤크키유우"
)
JAMO_VARIED = "ㅋㅎㅠㅜ"
COUNT = 2  # alternates per syllable: with the glyph itself, a cycle of three
STYLE_STEP = 0.7  # how far towards a seed style an alternate's style moves (0.35: barely visible)
SAME_SHAPE = (0.45, 0.97)  # ink IoU with the glyph it varies: below, another shape; above, a copy


def varied_syllables() -> list[int]:
    """Return the syllables that get alternates, in a fixed order."""
    cps = {ord(ch) for ch in FREQUENT}
    cps |= {source_syllables(ord(j))[0][0] for j in JAMO_VARIED}
    return sorted(cps)


def alternate_name(codepoint: int, k: int) -> str:
    """Return the file name of alternate `k` (1-based) of a code point: U+XXXX.altK.png."""
    return f"U+{codepoint:04X}.alt{k}.png"


def ink_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Return the intersection over union of the ink of two same-sized glyph images."""
    ink_a, ink_b = glyph_space.ink_mask(a), glyph_space.ink_mask(b)
    union = np.count_nonzero(ink_a | ink_b)
    return np.count_nonzero(ink_a & ink_b) / union if union else 0.0


def _styles(tuned_style: Any, base: Any, base_meta: dict[str, Any], writer_meta: dict[str, Any]) -> list[Any]:
    """Return COUNT style vectors near the writer's: a step from it towards each of its seed styles."""
    names = [font["name"] for font in base_meta.get("fonts", [])]
    seeds = [(names.index(n), w) for n, w in writer_meta.get("seeds", []) if n in names]
    directions = [i for i, _ in seeds] + [i for i in range(len(names)) if i not in dict(seeds)]
    weights = base.styles.weight.detach()
    centre = sum(w * weights[i] for i, w in seeds) if seeds else tuned_style
    return [tuned_style + STYLE_STEP * (weights[i] - centre) for i in directions[:COUNT]]


def draw_alternates(
    checkpoint: Path,
    base_weights: Path,
    glyph_dir: Path,
    *,
    codepoints: Sequence[int] | None = None,
    device: str | None = None,
) -> dict[int, int]:
    """Draw alternates of `codepoints` (default `varied_syllables()`) into `glyph_dir`; return {cp: kept}.

    `checkpoint` is the writer's fine-tuned generator, `base_weights` the pretrained one it started from.
    A syllable whose glyph is missing from `glyph_dir` gets no alternates.
    """
    import torch

    from models import checkpoints
    from models.generate import draw
    from models.repair import glyph_problem

    glyph_dir = Path(glyph_dir)
    wanted = [cp for cp in (codepoints or varied_syllables()) if (glyph_dir / f"U+{cp:04X}.png").is_file()]
    if not wanted:
        return {}
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tuned, writer_meta = checkpoints.load_generator(checkpoint, device)
    base, base_meta = checkpoints.load_generator(base_weights, device)
    originals = {cp: np.asarray(Image.open(glyph_dir / f"U+{cp:04X}.png").convert("L")) for cp in wanted}
    typical = float(np.median([glyph_space.ink_extent(im) for im in originals.values()]))
    kept: dict[int, int] = {}
    styles = _styles(tuned.styles.weight[0].detach(), base, base_meta, writer_meta)
    for style in styles:
        drawn = draw(tuned, writer_meta, wanted, style)
        for cp, image in zip(wanted, drawn, strict=True):
            if glyph_problem(image, typical) is not None:
                continue
            if not SAME_SHAPE[0] <= ink_iou(image, originals[cp]) <= SAME_SHAPE[1]:
                continue
            kept[cp] = kept.get(cp, 0) + 1
            write_png(glyph_dir / alternate_name(cp, kept[cp]), image)
    return kept
