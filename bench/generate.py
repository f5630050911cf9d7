"""Benchmark: generation speed (glyphs/s) before and after the fast path, and default fine-tuning time.

    python3 -m bench.generate [--weights PATH] [--glyphs 512] [--rounds 3] [--threads 2] [--finetune]

Uses the committed weights when present, otherwise a randomly initialised generator of the same
architecture (speed does not depend on the weights). Each round times, back to back in this process,
the generation as it was before the fast path (contiguous fp32, PNGs written in line) and `generate`
as it is now (precision from $GEULSSI_GENERATE_PRECISION or auto), each as a full run (source table
read, inference, PNG files) and as inference alone, and records the load average, because the machine
is shared. Prints one JSON line; about a minute on 2 idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from models import WEIGHTS_FILE, fontset, hangul
from models.checkpoints import export_generator, load_generator
from models.finetune import finetune
from models.fonts import render_set
from models.generate import Drawer, cpu_has_native_bf16, generate, resolve_precision
from models.glyph_files import glyph_filename, write_png
from models.networks import Generator, init_weights
from models.source import source_glyphs
from models.tensors import to_images, to_tensor


def _weights(path: Path | None, tmp: Path) -> tuple[Path, str]:
    if path is not None:
        return path, str(path)
    if WEIGHTS_FILE.is_file():
        return WEIGHTS_FILE, "committed"
    g = Generator(128, 24, 39, 128)
    init_weights(g)
    source = fontset.SOURCE
    meta = {
        "fonts": [{"name": f"f{i}"} for i in range(39)],
        "source_font": {
            "name": source.name,
            "path": str(source.local_path()),
            "index": source.index,
            "scale": 0.8275862068965517,
        },
    }
    return export_generator(g, meta, tmp / "random.pt"), "random init (ngf 24)"


def _before(weights: Path, out: Path | None, cps: list[int], batch: int = 64) -> None:
    """Generation as it was before the fast path: contiguous fp32 model, each batch's PNGs written in line."""
    generator, meta = load_generator(weights)
    if out is not None:
        out.mkdir()
    with torch.inference_mode():
        vector = generator.styles(torch.tensor([0]))[0]
        for i in range(0, len(cps), batch):
            chunk = cps[i : i + batch]
            source = to_tensor(source_glyphs(meta["source_font"], chunk, generator.size))
            jamo = torch.from_numpy(hangul.jamo_ids(chunk)) if generator.jamo_dim else None
            drawn = generator.decode(generator.encode(source), vector.expand(len(chunk), -1), jamo)
            images = to_images(drawn)
            if out is not None:
                for cp, image in zip(chunk, images, strict=True):
                    write_png(out / glyph_filename(cp), image)


def _after_inference(weights: Path, cps: list[int]) -> None:
    generator, meta = load_generator(weights)
    for _ in Drawer(generator, meta, copy_model=False).batches(cps):
        pass


def _cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return []
    lines = text.splitlines()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))


def _speeds(args: argparse.Namespace, weights: Path, tmp: Path) -> dict[str, object]:
    cps = hangul.all_syllables()[: args.glyphs]

    def after_full(r: int) -> None:
        generate(weights, tmp / f"after-{r}", codepoints=cps, device="cpu")

    runs: dict[str, Callable[[int], None]] = {
        "before_full": lambda r: _before(weights, tmp / f"before-{r}", cps),
        "after_full": after_full,
        "before_inference": lambda r: _before(weights, None, cps),
        "after_inference": lambda r: _after_inference(weights, cps),
    }
    _after_inference(weights, cps[:64])  # first oneDNN bf16 call builds its kernels; not part of a run
    per_s: dict[str, list[float]] = {name: [] for name in runs}
    per_cpu_s: dict[str, list[float]] = {name: [] for name in runs}
    loads = [round(os.getloadavg()[0], 1)]
    for r in range(args.rounds):
        for name, run in runs.items():
            t, cpu = time.perf_counter(), time.process_time()
            run(r)
            per_s[name].append(round(len(cps) / (time.perf_counter() - t), 1))
            per_cpu_s[name].append(round(len(cps) / (time.process_time() - cpu), 1))
        loads.append(round(os.getloadavg()[0], 1))
    medians = {name: statistics.median(v) for name, v in per_s.items()}
    return {
        "glyphs": len(cps),
        "rounds": args.rounds,
        "glyphs_per_s": per_s,
        "median_glyphs_per_s": medians,
        # Per CPU-second of this process: with --threads 1 it hardly depends on other jobs' load.
        "median_glyphs_per_cpu_s": {name: statistics.median(v) for name, v in per_cpu_s.items()},
        "speedup_full": round(medians["after_full"] / medians["before_full"], 2),
        "all_11172_s_estimate_after": round(hangul.N_SYLLABLES / medians["after_full"], 1),
        "load_average_1min": loads,
    }


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--glyphs", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--finetune", action="store_true", help="also time default fine-tuning")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        weights, kind = _weights(args.weights, tmp)
        _, meta = load_generator(weights)
        t = time.perf_counter()
        source_glyphs(meta["source_font"], hangul.all_syllables(), 128)  # warm the on-disk source table
        result: dict[str, object] = {
            "weights": kind,
            "threads": args.threads,
            "precision_after": resolve_precision("cpu"),
            "cpu_native_bf16": cpu_has_native_bf16(),
            "cpu_flags": _cpu_flags(),
            "torch": torch.__version__,
            "source_table_s": round(time.perf_counter() - t, 1),
            **_speeds(args, weights, tmp),
        }
        if args.finetune:
            face = next(e.face() for e in fontset.PRETRAIN if e.name == "UnPen Regular")
            boxes = {}
            for cp, im in render_set(face, hangul.ksx1001_syllables()[::12][:200]).items():
                box = np.full((260, 240), 255, np.uint8)
                box[40:200, 30:190] = cv2.resize(im, (160, 160), interpolation=cv2.INTER_AREA)
                boxes[cp] = box
            t = time.perf_counter()
            ft = finetune(boxes, weights, tmp / "w.pt", device="cpu")
            result.update(
                finetune_glyphs=len(boxes),
                finetune_steps=ft.steps,
                finetune_s=round(time.perf_counter() - t, 1),
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
