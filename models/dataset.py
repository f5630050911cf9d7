"""The pretraining glyph cache: every font's canonical KS X 1001 syllables in one uint8 array on disk."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from models import glyph_space, hangul
from models.fonts import FontFace, canonical_set

DUPLICATE_DIFF = 3.0  # mean absolute pixel difference below which two faces count as one design


@dataclass
class GlyphSet:
    """Training arrays: targets[f, i] is font f's glyph of codepoints[i] where present[f, i]."""

    codepoints: np.ndarray  # (N,) int
    source: np.ndarray  # (N, S, S) uint8, the source font's glyphs
    targets: np.ndarray  # (F, N, S, S) uint8 (may be a read-only memmap)
    present: np.ndarray  # (F, N) bool
    fonts: list[dict]  # per font: name, style_class, scale, count
    source_font: dict  # name, path, index, scale

    @property
    def size(self) -> int:
        """Return the glyph edge length in pixels."""
        return int(self.source.shape[-1])


def _render_face(args: tuple[FontFace, tuple[int, ...]]) -> tuple[dict[int, np.ndarray], float]:
    face, codepoints = args
    return canonical_set(face, codepoints)


def render_glyphset(
    faces: Sequence[FontFace],
    source: FontFace,
    codepoints: Sequence[int],
    *,
    size: int = glyph_space.SIZE,
    processes: int = 1,
) -> GlyphSet:
    """Render `faces` and `source` at canonical size (optionally downsampled to `size`) into a GlyphSet.

    Codepoints the source font lacks are dropped; faces that duplicate an earlier face are dropped.
    """
    import cv2

    jobs = [(face, tuple(codepoints)) for face in (source, *faces)]
    if processes > 1:
        with Pool(processes) as pool:
            results = pool.map(_render_face, jobs)
    else:
        results = [_render_face(job) for job in jobs]
    (src_glyphs, src_scale), rendered = results[0], results[1:]
    cps = [cp for cp in codepoints if cp in src_glyphs]

    def fit(image: np.ndarray) -> np.ndarray:
        return (
            image
            if size == glyph_space.SIZE
            else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        )

    blank = np.full((size, size), 255, np.uint8)
    targets: list[np.ndarray] = []
    present: list[np.ndarray] = []
    fonts: list[dict] = []
    for face, (glyphs, scale) in zip(faces, rendered, strict=True):
        stack = np.stack([fit(glyphs[cp]) if cp in glyphs else blank for cp in cps])
        mask = np.array([cp in glyphs for cp in cps])
        if any(_same_design(stack, mask, t, m) for t, m in zip(targets, present, strict=True)):
            continue
        targets.append(stack)
        present.append(mask)
        fonts.append(
            {"name": face.name, "style_class": face.style_class, "scale": scale, "count": int(mask.sum())}
        )
    if not targets:
        raise ValueError("none of the fonts draws any of the requested syllables")
    return GlyphSet(
        codepoints=np.array(cps),
        source=np.stack([fit(src_glyphs[cp]) for cp in cps]),
        targets=np.stack(targets),
        present=np.stack(present),
        fonts=fonts,
        source_font={
            "name": source.name,
            "path": str(source.path),
            "index": source.index,
            "scale": src_scale,
        },
    )


def _same_design(a: np.ndarray, mask_a: np.ndarray, b: np.ndarray, mask_b: np.ndarray) -> bool:
    """True if two faces draw their common glyphs (nearly) identically."""
    common = np.flatnonzero(mask_a & mask_b)[:64]
    if common.size == 0:
        return False
    diff = np.abs(a[common].astype(np.int16) - b[common].astype(np.int16)).mean()
    return bool(diff < DUPLICATE_DIFF)


def build_cache(out_dir: Path, faces: Sequence[FontFace], source: FontFace, processes: int = 2) -> Path:
    """Render the KS X 1001 training set into `out_dir` (written atomically) and return it."""
    glyphs = render_glyphset(faces, source, hangul.ksx1001_syllables(), processes=processes)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=".tmp-"))
    np.save(tmp / "codepoints.npy", glyphs.codepoints)
    np.save(tmp / "source.npy", glyphs.source)
    np.save(tmp / "targets.npy", glyphs.targets)
    np.save(tmp / "present.npy", glyphs.present)
    meta = {"fonts": glyphs.fonts, "source_font": glyphs.source_font}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir


def load_cache(cache_dir: Path) -> GlyphSet:
    """Load a cache written by `build_cache`; the big target array is memory-mapped read-only."""
    if not (cache_dir / "meta.json").is_file():
        raise ValueError(f"{cache_dir} is not a glyph cache; build it with `python3 -m models.fontset cache`")
    meta = json.loads((cache_dir / "meta.json").read_text(encoding="utf-8"))
    return GlyphSet(
        codepoints=np.load(cache_dir / "codepoints.npy"),
        source=np.load(cache_dir / "source.npy"),
        targets=np.load(cache_dir / "targets.npy", mmap_mode="r"),
        present=np.load(cache_dir / "present.npy"),
        fonts=meta["fonts"],
        source_font=meta["source_font"],
    )


def fingerprint(data: GlyphSet) -> str:
    """A short hash of what a GlyphSet holds (fonts, codepoints, a sample of glyphs): the same fonts
    rendered again give the same value, so a resumed run can check it trains on the same data."""
    import hashlib

    h = hashlib.sha256()
    h.update(json.dumps([f["name"] for f in data.fonts]).encode())
    h.update(np.ascontiguousarray(data.codepoints).tobytes())
    h.update(np.ascontiguousarray(data.present).tobytes())
    h.update(np.ascontiguousarray(data.source[::97]).tobytes())
    h.update(np.ascontiguousarray(data.targets[:, ::97]).tobytes())
    return h.hexdigest()[:16]
