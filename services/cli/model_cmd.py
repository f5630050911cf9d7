"""`geulssi pretrain | finetune | generate | eval`: thin wrappers around models/ with progress bars."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

from tqdm import tqdm

PROTOCOL = """Protocol. For each held-out handwriting font (heldout.tsv; never trained on), its glyphs of the
template's Hangul syllables (templates/data/hangul-v1.txt) are pasted into 260x240 writing boxes at a
jittered size (±10%) and position with a few specks of dust, as a photographed template would give them.
The pretrained generator is fine-tuned on those boxes (`models.finetune` defaults except steps), then draws
a random sample of the font's *other* KS X 1001 syllables, which are compared with the font's own glyphs
in the canonical 128x128 space: SSIM (Gaussian window 11, σ 1.5, as in DM-Font), L1 (0-1), ink IoU, and
Tesseract (kor, psm 6) character error rate on the glyphs set 10 to a line at 48 px. Random syllables
without words are hard for Tesseract, so the truth row gives the OCR ceiling. Baselines: the source font
(Noto Sans CJK KR), the nearest pretraining font as rendered (top seed style), and the model before
fine-tuning (the seed mix of style embeddings). Sheets: rows truth, source, nearest, before, fine-tuned."""

DEFAULT_CACHE = Path.home() / ".cache" / "geulssi" / "data" / "pretrain-v1"


def register(subparsers: Any) -> None:
    """Add the model commands to the `geulssi` parser."""
    p = subparsers.add_parser("pretrain", help="pretrain the generator on the font set (long; resumable)")
    p.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="glyph cache from `models.fontset cache`"
    )
    p.add_argument("--ckpt-dir", type=Path, default=Path("/work/ckpt/pretrain"), help="training checkpoints")
    p.add_argument("--export", type=Path, help="write the fp16 generator file here at the end")
    p.add_argument("--quick", action="store_true", help="tiny model on 3 fonts at 32 px (seconds; for tests)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --ckpt-dir")
    p.add_argument("--max-minutes", type=float, default=0.0, help="wall-clock budget; 0 = none")
    p.add_argument("--max-steps", type=int, default=0, help="step budget; 0 = none")
    p.set_defaults(func=_pretrain)

    p = subparsers.add_parser("finetune", help="fine-tune the generator on a writer's glyph directory")
    p.add_argument("glyph_dir", type=Path, help="directory of U+XXXX.png writing-box images (from extract)")
    p.add_argument("--out", type=Path, required=True, help="fine-tuned checkpoint to write")
    p.add_argument("--base", type=Path, help="pretrained weights (default: the committed ones)")
    p.add_argument("--steps", type=int, default=400)
    p.set_defaults(func=_finetune)

    p = subparsers.add_parser("generate", help="draw all 11,172 syllables with a checkpoint")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True, help="directory for U+XXXX.png glyphs (replaced whole)")
    p.add_argument("--written", type=Path, help="the writer's glyph directory; written syllables are kept")
    p.set_defaults(func=_generate)

    p = subparsers.add_parser(
        "eval", help="score fine-tuning on held-out handwriting fonts (writes QUALITY.md)"
    )
    p.add_argument("--weights", type=Path, help="pretrained weights (default: the committed ones)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="glyph cache (nearest-font baseline)")
    p.add_argument("--steps", type=int, default=400, help="fine-tuning steps per font")
    p.add_argument("--n-eval", type=int, default=300, help="held-out syllables scored per font")
    p.add_argument("--fonts", nargs="*", help="held-out font names (default: all)")
    p.add_argument("--out", type=Path, default=Path("docs/QUALITY.md"))
    p.set_defaults(func=_eval)


def _bar(desc: str) -> tuple[tqdm, Any]:
    bar = tqdm(desc=desc, unit="glyph" if desc == "generate" else "step")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, progress


def _pretrain(args: argparse.Namespace) -> int:
    from models.dataset import load_cache
    from models.fontset import quick_glyphset
    from models.pretrain import PretrainConfig, export, pretrain

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.quick:
        data = quick_glyphset()
        cfg = PretrainConfig(ngf=8, ndf=8, style_dim=16, batch=8, shift=1, max_steps=args.max_steps or 60)
    else:
        data = load_cache(args.cache)
        cfg = PretrainConfig()
    cfg = dataclasses.replace(cfg, max_minutes=args.max_minutes, max_steps=args.max_steps or cfg.max_steps)
    final = pretrain(data, args.ckpt_dir, cfg, resume=args.resume)
    print(f"checkpoint {final}")
    if args.export or args.quick:
        print(f"weights {export(final, args.export or args.ckpt_dir / 'generator.pt')}")
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from models import weights_path
    from models.finetune import finetune
    from models.glyph_files import read_glyph_dir

    glyphs = read_glyph_dir(args.glyph_dir)
    bar, progress = _bar("finetune")
    with bar:
        result = finetune(glyphs, args.base or weights_path(), args.out, steps=args.steps, progress=progress)
    seeds = ", ".join(f"{name} {weight:.2f}" for name, weight in result.seeds)
    print(
        f"wrote {result.checkpoint} in {result.seconds:.0f} s (L1 {result.final_l1:.3f}; seeded from {seeds})"
    )
    return 0


def _generate(args: argparse.Namespace) -> int:
    from models.generate import generate
    from models.glyph_files import read_glyph_dir

    written = read_glyph_dir(args.written) if args.written else None
    bar, progress = _bar("generate")
    with bar:
        out = generate(args.checkpoint, args.out, written=written, progress=progress)
    print(f"wrote {out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from models import fontset, weights_path
    from models.evaluate import HELDOUT, HELDOUT_LIST, evaluate_font, write_report

    weights = args.weights or weights_path()
    entries = [e for e in HELDOUT if not args.fonts or e.name in args.fonts or e.family in args.fonts]
    if not entries:
        raise ValueError(f"no held-out font matches {args.fonts}; choose from {[e.name for e in HELDOUT]}")
    fontset.install(tuple(entries), HELDOUT_LIST)
    reports = []
    for entry in entries:
        bar, progress = _bar(f"finetune {entry.name}")
        with bar:
            reports.append(
                evaluate_font(
                    entry, weights, args.cache, steps=args.steps, n_eval=args.n_eval, progress=progress
                )
            )
    settings = (
        f"Made by `geulssi eval --steps {args.steps} --n-eval {args.n_eval}` with weights `{weights.name}` "
        "(2-core CPU).\n\n" + PROTOCOL
    )
    out = write_report(reports, args.out, args.out.parent / "quality", settings)
    print(f"wrote {out}")
    return 0
