"""Generation: draw all 11,172 Hangul syllables with a (fine-tuned) generator as canonical PNGs."""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul
from models.glyph_files import glyph_filename, write_png
from models.networks import Generator
from models.source import FULL_TABLE_FROM, source_glyphs
from models.tensors import to_images, to_tensor

PRECISION_ENV = "GEULSSI_GENERATE_PRECISION"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 /proc/cpuinfo flags of native bf16 dot products


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
    precision: str | None = None,
) -> Path:
    """Write every syllable as `U+XXXX.png` (canonical 128x128 uint8) into `out_dir`; return `out_dir`.

    Written Hangul syllables in `written` (writing-box images) are kept as written, canonicalised with
    the writer scale stored by fine-tuning (or computed from them). The directory appears complete or
    not at all: glyphs go to a temp dir beside it that is renamed at the end. `codepoints` restricts
    the output (tests); `progress(done, total)` is called per batch. `precision` is one of PRECISIONS
    (default: $GEULSSI_GENERATE_PRECISION, else 'auto'; see `resolve_precision`).
    """
    out_dir = Path(out_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    generator, meta = checkpoints.load_generator(checkpoint, device)
    if not 0 <= style < generator.styles.num_embeddings:
        raise ValueError(
            f"style {style} does not exist; the checkpoint has {generator.styles.num_embeddings}"
        )
    keep: dict[int, np.ndarray] = {}
    hangul_written = glyph_space.inked_syllables(written or {})
    if hangul_written:
        scale = meta.get("writer_scale") or glyph_space.writer_scale(hangul_written.values())
        keep = {cp: glyph_space.to_canonical(im, scale) for cp, im in hangul_written.items()}
    wanted = codepoints if codepoints is not None else hangul.all_syllables()
    todo = [cp for cp in wanted if cp not in keep]
    total = len(wanted)
    drawer = Drawer(generator, meta, precision, copy_model=False)  # the generator is ours alone

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    # PNG encoding releases the GIL, so one writer thread encodes batch k while torch draws batch k+1.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geulssi-png")
    try:
        for cp, image in keep.items():
            if cp in wanted:
                write_png(tmp / glyph_filename(cp), image)
        done = total - len(todo)
        if len(todo) >= FULL_TABLE_FROM:
            source_glyphs(meta["source_font"], todo[:FULL_TABLE_FROM], generator.size)  # builds the table
        pending: list[tuple[Future[None], int]] = []  # at most one batch being written

        def finish_write() -> None:
            nonlocal done
            future, n = pending.pop()
            future.result()  # re-raises a failed write here
            done += n
            if progress is not None:
                progress(done, total)

        for chunk, images in drawer.batches(todo, style, batch=batch):
            if pending:
                finish_write()
            pending.append((writer.submit(_write_batch, tmp, chunk, images), len(chunk)))
        if pending:
            finish_write()
        _swap_in(tmp, out_dir)
    except BaseException:
        writer.shutdown(wait=True, cancel_futures=True)  # before removing the directory it writes into
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        writer.shutdown(wait=True)
    return out_dir


def draw(
    generator: Generator,
    meta: dict[str, Any],
    codepoints: Sequence[int],
    style: int | torch.Tensor = 0,
    *,
    batch: int = 64,
    precision: str | None = None,
) -> np.ndarray:
    """Return canonical 128x128 uint8 glyphs (N, 128, 128) of `codepoints` drawn by `generator`.

    `style` is a style id of the checkpoint or a (style_dim,) style vector (e.g. a mix of styles).
    `generator` itself is left as it is (the fast path works on a channels-last copy).
    """
    out = np.empty((len(codepoints), glyph_space.SIZE, glyph_space.SIZE), np.uint8)
    i = 0
    for chunk, images in Drawer(generator, meta, precision).batches(codepoints, style, batch=batch):
        out[i : i + len(chunk)] = images
        i += len(chunk)
    return out


class Drawer:
    """A generator prepared for inference: channels-last weights and, where it pays, bf16/fp16 autocast.

    Measured on a 2-core AVX-512 EPYC (docs/BENCHMARKS.md "generator"): channels-last alone is ~1.3x
    (oneDNN's blocked kernels, no per-call reorders) and bf16 autocast on a CPU with avx512_bf16 another
    ~2x. GroupNorm stays fp32 under autocast, so glyphs differ from fp32 by about a grey level.
    """

    def __init__(
        self,
        generator: Generator,
        meta: dict[str, Any],
        precision: str | None = None,
        *,
        copy_model: bool = True,
    ) -> None:
        self.device = next(generator.parameters()).device
        self.precision = resolve_precision(self.device, precision)
        self.meta = meta
        self.ink_level: float | None = meta.get("ink_level")
        model = copy.deepcopy(generator) if copy_model else generator
        self.model = model.eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def batches(
        self, codepoints: Sequence[int], style: int | torch.Tensor = 0, *, batch: int = 64
    ) -> Iterator[tuple[Sequence[int], np.ndarray]]:
        """Yield (codepoints, uint8 glyphs (n, 128, 128)) per batch of at most `batch` codepoints."""
        model, size = self.model, self.model.size
        with torch.inference_mode():
            if isinstance(style, int):
                vector = model.styles(torch.tensor([style], device=self.device))[0]
            else:
                vector = style.to(self.device, torch.float32)
            for i in range(0, len(codepoints), batch):
                chunk = codepoints[i : i + batch]
                source = to_tensor(source_glyphs(self.meta["source_font"], chunk, size)).to(self.device)
                source = source.contiguous(memory_format=torch.channels_last)
                jamo = None
                if model.jamo is not None:
                    jamo = torch.from_numpy(hangul.jamo_ids(chunk)).to(self.device)
                with self._autocast():
                    drawn = model.decode(model.encode(source), vector.expand(len(chunk), -1), jamo)
                images = to_images(drawn.float())
                if size != glyph_space.SIZE:
                    side = (glyph_space.SIZE, glyph_space.SIZE)
                    images = np.stack([cv2.resize(im, side, interpolation=cv2.INTER_LINEAR) for im in images])
                if self.ink_level is not None:  # the writer's stroke weight, measured at fine-tuning
                    images = glyph_space.reweigh(images, self.ink_level)
                yield chunk, images


def resolve_precision(device: torch.device | str, requested: str | None = None) -> str:
    """Return the precision to draw with on `device`: 'fp32', 'bf16' or 'fp16'.

    `requested` (else $GEULSSI_GENERATE_PRECISION, else 'auto') is one of PRECISIONS. 'auto' picks bf16
    on a CPU with native bf16 instructions (avx512_bf16 / AMX) and fp32 on any other CPU, where bf16 is
    emulated and slower; on CUDA bf16 where the GPU supports it, else fp16. An explicit 'bf16' is
    honoured on any CPU (it is exact enough everywhere, only slow without the instructions).
    """
    device = torch.device(device)
    choice = (requested or os.environ.get(PRECISION_ENV) or "auto").strip().lower()
    if choice not in PRECISIONS:
        raise ValueError(f"precision {choice!r} is not one of {', '.join(PRECISIONS)} (${PRECISION_ENV})")
    if choice == "fp16" and device.type != "cuda":
        raise ValueError("fp16 generation needs CUDA; use bf16 or fp32 on this device")
    if choice != "auto":
        return choice
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 dot-product instructions (x86 avx512_bf16 or AMX-BF16)."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)  # private, so also read cpuinfo
    if probe is not None and probe():
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return any(flag in flags for flag in _CPU_BF16_FLAGS)


def _write_batch(directory: Path, codepoints: Sequence[int], images: np.ndarray) -> None:
    for cp, image in zip(codepoints, images, strict=True):
        write_png(directory / glyph_filename(cp), image)


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` (an existing `out_dir` is moved aside first, then removed)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
        os.replace(out_dir, old / "d")
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
