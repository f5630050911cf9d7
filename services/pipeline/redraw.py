"""Redraw syllables a writer marked as wrong in a finished font, without fine-tuning again.

Each marked syllable is drawn again in another style, trying in turn until one passes the repair check
(models.repair.glyph_problem): the writer's fine-tuned generator with its style pulled halfway towards the
seed fonts it started from, then the pretrained generator in the seed-font mix, then each single seed
font, and last the source font. `attempt` (how many times the writer asked before) starts the search
further along, so asking again for the same syllable gives a different drawing.

    >>> redraw_syllables(glyph_dir, Path("writer.pt"), models.weights_path(), [0xAC01], attempt=0)
    {44033: 'another style: the fine-tuned style nudged towards the seed fonts'}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul
from models.generate import draw
from models.glyph_files import glyph_filename, write_png
from models.repair import find_broken, glyph_problem, seed_style
from models.source import source_glyphs

NUDGED = "the fine-tuned style nudged towards the seed fonts"
MAX_MARKED = 200  # syllables one request may ask to redraw


def check_marked(codepoints: Sequence[int]) -> list[int]:
    """The marked code points, sorted and unique; ValueError unless each is a Hangul syllable."""
    if not codepoints:
        raise ValueError("mark at least one syllable to redraw")
    wrong = [cp for cp in codepoints if not hangul.is_syllable(cp)]
    if wrong:
        shown = ", ".join(f"U+{cp:04X}" for cp in wrong[:5])
        raise ValueError(f"only Hangul syllables can be redrawn; {shown} is not one")
    unique = sorted(set(codepoints))
    if len(unique) > MAX_MARKED:
        raise ValueError(f"{len(unique)} syllables are marked; at most {MAX_MARKED} can be redrawn at once")
    return unique


def _candidates(
    checkpoint: Path, base_weights: Path, cps: list[int], device: str
) -> list[tuple[str, np.ndarray]]:
    """Every alternative drawing of `cps`, in the order they are tried: (how, images (N, 128, 128))."""
    writer, writer_meta = checkpoints.load_generator(checkpoint, device)
    base, base_meta = checkpoints.load_generator(base_weights, device)
    mix = seed_style(base, base_meta, writer_meta).to(device)
    with torch.no_grad():
        nudged = 0.5 * writer.styles.weight[0].detach() + 0.5 * mix
    out = [
        (f"another style: {NUDGED}", draw(writer, writer_meta, cps, nudged)),
        ("another style: the seed fonts' mix", draw(base, base_meta, cps, mix)),
    ]
    names = [font["name"] for font in base_meta.get("fonts", [])]
    for name, _ in writer_meta.get("seeds", []):
        if name in names:
            out.append((f"another style: seed font {name}", draw(base, base_meta, cps, names.index(name))))
    out.append(("the source font", source_glyphs(base_meta["source_font"], cps, glyph_space.SIZE)))
    return out


def redraw_syllables(
    glyph_dir: Path,
    checkpoint: Path,
    base_weights: Path,
    codepoints: Sequence[int],
    *,
    attempt: int = 0,
    device: str | None = None,
) -> dict[int, str]:
    """Replace the marked syllable images in `glyph_dir`; return {code point: how it was redrawn}."""
    cps = check_marked(codepoints)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    candidates = _candidates(Path(checkpoint), Path(base_weights), cps, device)
    _, typical = find_broken(Path(glyph_dir), codepoints=hangul.all_syllables()[::97])  # a sample's median
    done: dict[int, str] = {}
    for i, cp in enumerate(cps):
        current = cv2.imread(str(Path(glyph_dir) / glyph_filename(cp)), cv2.IMREAD_GRAYSCALE)
        order = candidates[attempt % len(candidates) :] + candidates[: attempt % len(candidates)]
        how, image = order[-1][0], order[-1][1][i]  # when none passes: the last one tried
        for name, images in order:
            same = current is not None and np.abs(images[i].astype(int) - current.astype(int)).mean() < 1.0
            if not same and glyph_problem(images[i], typical) is None:
                how, image = name, images[i]
                break
        write_png(Path(glyph_dir) / glyph_filename(cp), image)
        for alternate in Path(glyph_dir).glob(f"U+{cp:04X}.alt*.png"):
            alternate.unlink()  # variations of the drawing that was marked wrong
        done[cp] = how
    return done
