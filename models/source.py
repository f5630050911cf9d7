"""The source (content) font's canonical glyphs, rendered once per font/scale/size and cached on disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import ImageFont

from models import glyph_space, hangul
from models.fonts import FontFace, render

FULL_TABLE_FROM = 2000  # requests this large build (and then reuse) the cached table of all syllables
CACHE_DIR = Path(os.environ.get("GEULSSI_CACHE", Path.home() / ".cache" / "geulssi")) / "data"


def _face(source_font: dict[str, Any]) -> FontFace:
    return FontFace(source_font["name"], Path(source_font["path"]), int(source_font.get("index", 0)))


def source_glyphs(source_font: dict[str, Any], codepoints: Sequence[int], size: int) -> np.ndarray:
    """Return the source font's canonical glyphs for `codepoints` as uint8 (N, size, size).

    `source_font` is the checkpoint's record: name, path, index and the scale used in training.
    All 11,172 syllables are rendered and cached on first use so that generation reads them from disk.
    """
    bad = [cp for cp in codepoints if not hangul.is_syllable(cp)]
    if bad:
        raise ValueError(f"U+{bad[0]:04X} is not a Hangul syllable; the model only draws syllables")
    if len(codepoints) < FULL_TABLE_FROM and not _table_path(source_font, size).is_file():
        # Few glyphs (fine-tuning, tests): render just those rather than the whole table.
        font = _face(source_font).open()
        return np.stack([_canonical(font, cp, source_font["scale"], size) for cp in codepoints])
    table = _all_syllables(source_font, size)
    return np.asarray(table[[cp - hangul.FIRST for cp in codepoints]])


def _canonical(font: ImageFont.FreeTypeFont, codepoint: int, scale: float, size: int) -> np.ndarray:
    canon = glyph_space.to_canonical(render(font, codepoint), scale)
    return (
        canon if size == glyph_space.SIZE else cv2.resize(canon, (size, size), interpolation=cv2.INTER_AREA)
    )


def _table_path(source_font: dict[str, Any], size: int) -> Path:
    key = f"{source_font['path']}:{source_font.get('index', 0)}:{source_font['scale']:.6f}:{size}"
    return CACHE_DIR / f"source-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npy"


def _all_syllables(source_font: dict[str, Any], size: int) -> np.ndarray:
    path = _table_path(source_font, size)
    if path.is_file():
        return np.load(path, mmap_mode="r")
    font = _face(source_font).open()
    table = np.empty((hangul.N_SYLLABLES, size, size), np.uint8)
    for row, cp in enumerate(hangul.all_syllables()):
        table[row] = _canonical(font, cp, source_font["scale"], size)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, suffix=".npy")
    with os.fdopen(fd, "wb") as fh:
        np.save(fh, table)
    os.replace(tmp, path)
    return table
