"""Write models/weights/MODEL_CARD.md from the metadata stored in the weights file.

python3 -m models.model_card [--weights PATH] [--hardware TEXT] [--notes FILE]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from models import WEIGHTS_FILE, fontset
from models.checkpoints import load_discriminator, load_generator


def render_card(weights: Path, meta: dict[str, Any], size: int, hardware: str, notes: str = "") -> str:
    """Return the model card text for a pretrained generator file and its metadata."""
    train = meta.get("train", {})
    cfg = train.get("config", {})
    hours = train.get("trained_seconds", 0) / 3600
    by_name = {e.name: e for e in fontset.PRETRAIN}
    n_synthetic = sum(f.get("style_class") == "handwriting-synthetic" for f in meta["fonts"])
    n_real = len(meta["fonts"]) - n_synthetic
    critic = load_discriminator(weights) is not None
    contents = "fp16 generator and discriminator" if critic else "fp16 generator only"
    discriminator_use = "shipped: fine-tuning's critic" if critic else "not shipped"
    lines = [
        f"# {weights.stem}",
        "",
        "Pretrained font generator of geulssi: a pix2pix U-Net that redraws a syllable of the source font in",
        "one of the pretraining styles (zi2zi-style style embedding at the 1x1 bottleneck). Fine-tuning",
        "(`models.finetune`) learns a writer's style from ~200 written syllables; `models.generate` then",
        "draws all 11,172 syllables.",
        "",
        "| | |",
        "|---|---|",
        f"| file | `{weights.name}` ({weights.stat().st_size / 2**20:.1f} MiB, {contents}) |",
        f"| input / output | {size}x{size} glyphs (canonical 128x128 via `models.glyph_space`), ink at +1 |",
        f"| architecture | U-Net ngf {cfg.get('ngf')}, style dim {cfg.get('style_dim')}, GroupNorm; "
        f"PatchGAN ndf {cfg.get('ndf')} with font-category head ({discriminator_use}) |",
        f"| losses | L1 x{cfg.get('l1_weight')} + GAN x{cfg.get('gan_weight')} + category x"
        f"{cfg.get('category_weight')} |",
        f"| source font | {meta['source_font']['name']} (Debian fonts-noto-cjk), scale "
        f"{meta['source_font']['scale']:.4f} |",
        f"| training set | KS X 1001 syllables (2,350) of {n_real} fonts"
        + (f" and {n_synthetic} synthetic writers" if n_synthetic else "")
        + f"; handwriting faces sampled x{cfg.get('handwriting_weight')} |",
        f"| image presentations | {train.get('images', 0):,} in all (the last run: {train.get('step', 0):,} "
        f"steps of batch {cfg.get('batch')}, plus what it started from) |",
        f"| wall time | {hours:.2f} h |",
        f"| hardware | {hardware} |",
        "",
        "## Fonts (style ids in order)",
        "",
        "All from `/work/shared/fonts/pretrain.tsv`; none from heldout.tsv. Same-design duplicates were",
        "removed by hand (Yeon Sung = BM YEONSUNG, Jua = BM JUA, Do Hyeon = BM DoHyeon, Nanum Pen =",
        "Nanum Pen Script, Kirang Haerang = BM KIRANGHAERANG, Noto Sans KR / Source Han Sans = Noto Sans",
        "CJK KR) and automatically (a face whose glyphs match an earlier face's within 3 grey levels is",
        "dropped: D2Coding's Hangul duplicates an earlier face).",
        "",
        "| id | font | class | source | licence note |",
        "|---|---|---|---|---|",
    ]
    synthetic = [f for f in meta["fonts"] if f.get("style_class") == "handwriting-synthetic"]
    for i, font in enumerate(meta["fonts"]):
        if font in synthetic:
            continue
        entry = by_name.get(font["name"])
        src = "npm " + entry.package if entry and entry.npm else f"Debian {entry.package}" if entry else "?"
        licence = "GPL-2 (training only)" if font["name"].startswith(("Un", "Lexi")) else "OFL / similar"
        lines.append(f"| {i} | {font['name']} | {font['style_class']} | {src} | {licence} |")
    if synthetic:
        first = meta["fonts"].index(synthetic[0])
        lines += [
            "",
            f"Style ids {first}-{first + len(synthetic) - 1} are {len(synthetic)} synthetic writers made "
            "from the handwriting faces (`models/synthetic_writers.py`; each one's transform is stored "
            "in the weights' metadata).",
        ]
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write the card next to the weights."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--hardware", default="2-core x86-64 CPU (AMD EPYC, AVX2), shared with other jobs")
    parser.add_argument("--notes", type=Path, help="markdown appended to the card (metrics, caveats)")
    args = parser.parse_args()
    generator, meta = load_generator(args.weights)
    text = render_card(
        args.weights, meta, generator.size, args.hardware, args.notes.read_text() if args.notes else ""
    )
    out = args.weights.parent / "MODEL_CARD.md"
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
