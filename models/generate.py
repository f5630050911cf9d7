"""Generation: draw all 11,172 Hangul syllables with a (fine-tuned) generator as canonical PNGs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul
from models.glyph_files import glyph_filename, write_png
from models.networks import Generator
from models.pretrain import to_images, to_tensor
from models.source import FULL_TABLE_FROM, source_glyphs


def generate(
    checkpoint: Path | str,
    out_dir: Path | str,
    *,
    written: Mapping[int, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
    style: int = 0,
    batch: int = 64,
    device: str | None = None,
    codepoints: list[int] | None = None,
) -> Path:
    """Write every syllable as `U+XXXX.png` (canonical 128x128 uint8) into `out_dir`; return `out_dir`.

    Written Hangul syllables in `written` (writing-box images) are kept as written, canonicalised with
    the writer scale stored by fine-tuning (or computed from them). The directory appears complete or
    not at all: glyphs go to a temp dir beside it that is renamed at the end. `codepoints` restricts
    the output (tests); `progress(done, total)` is called per batch.
    """
    out_dir = Path(out_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    generator, meta = checkpoints.load_generator(checkpoint, device)
    if not 0 <= style < generator.styles.num_embeddings:
        raise ValueError(
            f"style {style} does not exist; the checkpoint has {generator.styles.num_embeddings}"
        )
    keep: dict[int, np.ndarray] = {}
    hangul_written = {
        cp: im
        for cp, im in (written or {}).items()
        if hangul.is_syllable(cp) and glyph_space.ink_bbox(im) is not None
    }
    if hangul_written:
        scale = meta.get("writer_scale") or glyph_space.writer_scale(hangul_written.values())
        keep = {cp: glyph_space.to_canonical(im, scale) for cp, im in hangul_written.items()}
    wanted = codepoints if codepoints is not None else hangul.all_syllables()
    todo = [cp for cp in wanted if cp not in keep]
    total = len(wanted)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        for cp, image in keep.items():
            if cp in wanted:
                write_png(tmp / glyph_filename(cp), image)
        done = total - len(todo)
        if len(todo) >= FULL_TABLE_FROM:
            source_glyphs(meta["source_font"], todo[:FULL_TABLE_FROM], generator.size)  # builds the table
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            for cp, image in zip(chunk, draw(generator, meta, chunk, style, batch=batch), strict=True):
                write_png(tmp / glyph_filename(cp), image)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def draw(
    generator: Generator,
    meta: dict[str, Any],
    codepoints: Sequence[int],
    style: int | torch.Tensor = 0,
    *,
    batch: int = 64,
) -> np.ndarray:
    """Return canonical 128x128 uint8 glyphs (N, 128, 128) of `codepoints` drawn by `generator`.

    `style` is a style id of the checkpoint or a (style_dim,) style vector (e.g. a mix of styles).
    """
    device = next(generator.parameters()).device
    out = np.empty((len(codepoints), glyph_space.SIZE, glyph_space.SIZE), np.uint8)
    with torch.inference_mode():
        if isinstance(style, int):
            vector = generator.styles(torch.tensor([style], device=device))[0]
        else:
            vector = style.to(device)
        for i in range(0, len(codepoints), batch):
            chunk = codepoints[i : i + batch]
            source = to_tensor(source_glyphs(meta["source_font"], chunk, generator.size)).to(device)
            images = to_images(generator.decode(generator.encode(source), vector.expand(len(chunk), -1)))
            for j, image in enumerate(images):
                if image.shape[-1] != glyph_space.SIZE:
                    image = cv2.resize(image, (glyph_space.SIZE,) * 2, interpolation=cv2.INTER_LINEAR)
                out[i + j] = image
    return out


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` (an existing `out_dir` is moved aside first, then removed)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
        os.replace(out_dir, old / "d")
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
