"""Benchmark: generation speed (glyphs/s) and default fine-tuning time of the font generator.

    python3 -m bench.generate [--weights PATH] [--glyphs 2000] [--threads 2] [--finetune]

Uses the committed weights when present, otherwise a randomly initialised generator of the same
architecture (speed does not depend on the weights). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from models import WEIGHTS_FILE, fontset, hangul
from models.checkpoints import export_generator
from models.finetune import finetune
from models.fonts import render_set
from models.generate import generate
from models.networks import Generator, init_weights
from models.source import source_glyphs


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


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--glyphs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--finetune", action="store_true", help="also time default fine-tuning")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        weights, kind = _weights(args.weights, tmp)
        from models.checkpoints import load_generator

        _, meta = load_generator(weights)
        source_glyphs(meta["source_font"], hangul.all_syllables(), 128)  # warm the on-disk source table
        cps = hangul.all_syllables()[: args.glyphs]
        t = time.perf_counter()
        generate(weights, tmp / "out", codepoints=cps, device="cpu")
        gen_s = time.perf_counter() - t
        result = {
            "weights": kind,
            "threads": args.threads,
            "glyphs": len(cps),
            "seconds": round(gen_s, 2),
            "glyphs_per_s": round(len(cps) / gen_s, 1),
            "all_11172_s_estimate": round(hangul.N_SYLLABLES * gen_s / len(cps), 1),
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
