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
fine-tuning (the seed mix of style embeddings). Sheets: rows truth, source, nearest, before, fine-tuned.

Readability (models/readability.py). Broken share: each scored syllable alone (48 px, 32 px white margin)
read by Tesseract (kor, psm 10); among those it reads right in the true font, the share it misreads in
the system's glyphs. Sentence CER: a fixed paragraph of ordinary prose (models/data/paragraph-ko.txt, 180
syllables; punctuation left out, as the generator does not draw it) set from each system's canonical
glyphs (48 px tall, each glyph cropped to its ink width, lines of at most 24 glyph heights), every line
read by Tesseract (kor, psm 7), whitespace ignored; the truth row is the true font set the same way. All
paragraph syllables come from the system, including the 43 that are template syllables (the product keeps
the written ones). Hard sheets (hard-<font>.png): 뷁 쀍 꿿 똠 쐈 흝 밟 않 헌 별 필 쥐 퀴 끼,
truth above fine-tuned."""

VALIDATION_NOTE = """**Validation split**: these handwriting faces are in the pretraining set, so the model
has seen them (and may pick one as its own seed style). The numbers are a tuning aid for choosing settings
without looking at the held-out fonts, not a measure of generalisation to a new hand."""

DEFAULT_CACHE = Path.home() / ".cache" / "geulssi" / "data" / "pretrain-v1"


def register(subparsers: Any) -> None:
    """Add the model commands to the `geulssi` parser."""
    p = subparsers.add_parser("pretrain", help="pretrain the generator on the font set (long; resumable)")
    p.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help="glyph cache (built here from the pinned fonts when missing)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the training state lives (default: models/weights/training, committed with the repo)",
    )
    p.add_argument("--export", type=Path, help="write the fp16 generator file here at the end")
    p.add_argument("--quick", action="store_true", help="tiny model on 3 fonts at 32 px (seconds; for tests)")
    p.add_argument("--resume", action="store_true", help="continue from the training state in --state-dir")
    p.add_argument("--init-from", type=Path, help="warm-start a new run from this exported generator")
    p.add_argument("--max-minutes", type=float, default=0.0, help="wall-clock budget; 0 = none")
    p.add_argument("--max-steps", type=int, default=0, help="step budget; 0 = none")
    p.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    p.add_argument(
        "--threads", type=int, default=0, help="CPU threads (default 2); 1 leaves a core for other work"
    )
    p.set_defaults(func=_pretrain)

    p = subparsers.add_parser("finetune", help="fine-tune the generator on a writer's glyph directory")
    p.add_argument("glyph_dir", type=Path, help="directory of U+XXXX.png writing-box images (from extract)")
    p.add_argument("--out", type=Path, required=True, help="fine-tuned checkpoint to write")
    p.add_argument("--base", type=Path, help="pretrained weights (default: the committed ones)")
    p.add_argument("--steps", type=int, help="at most this many steps (default: models.finetune's, 800)")
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
    p.add_argument("--steps", type=int, help="fine-tuning steps per font, at most (default: 800)")
    p.add_argument("--n-eval", type=int, default=300, help="held-out syllables scored per font")
    p.add_argument("--fonts", nargs="*", help="font names or families of the split (default: all)")
    p.add_argument(
        "--split",
        choices=("heldout", "validation"),
        default="heldout",
        help="heldout: the five held-out fonts; validation: pretraining handwriting fonts (a tuning aid)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="markdown to write (default docs/QUALITY.md; validation: docs/quality/validation.md)",
    )
    p.add_argument(
        "--typesetting-only",
        action="store_true",
        help="only the text-level figures (spacing, sizes, Latin proportions; no generator; seconds)",
    )
    p.set_defaults(func=_eval)


def _bar(desc: str) -> tuple[tqdm, Any]:
    bar = tqdm(desc=desc, unit="glyph" if desc == "generate" else "step")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, progress


def _pretrain(args: argparse.Namespace) -> int:
    from models.dataset import load_cache
    from models.fontset import ensure_cache, quick_glyphset
    from models.pretrain import STATE_DIR, PretrainConfig, export, pretrain

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    state_dir = args.state_dir or STATE_DIR
    if args.quick:
        data = quick_glyphset()
        cfg = PretrainConfig(
            ngf=8,
            ndf=8,
            style_dim=16,
            jamo_dim=4,
            synthetic_per_font=2,
            batch=8,
            shift=1,
            max_steps=args.max_steps or 60,
            precision="fp32",
        )
        if args.state_dir is None:
            raise ValueError("--quick needs --state-dir (it must not touch the committed training state)")
    else:
        data = load_cache(ensure_cache(args.cache))
        cfg = PretrainConfig()
    if args.threads < 0:
        raise ValueError("--threads must be 1 or more (0: the default)")
    cfg = dataclasses.replace(
        cfg,
        max_minutes=args.max_minutes,
        max_steps=args.max_steps or cfg.max_steps,
        threads=args.threads or cfg.threads,
    )
    final = pretrain(data, state_dir, cfg, resume=args.resume, init_from=args.init_from, device=args.device)
    print(f"training state {final}")
    if args.export or args.quick:
        print(f"weights {export(final, args.export or state_dir / 'generator.pt')}")
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from models import weights_path
    from models.finetune import FINETUNE_STEPS, finetune
    from models.glyph_files import read_glyph_dir

    glyphs = read_glyph_dir(args.glyph_dir)
    bar, progress = _bar("finetune")
    with bar:
        steps = args.steps or FINETUNE_STEPS
        result = finetune(glyphs, args.base or weights_path(), args.out, steps=steps, progress=progress)
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
    from models.evaluate import HELDOUT_LIST, evaluate_font, split_entries
    from models.finetune import FINETUNE_STEPS
    from models.quality_report import write_report

    weights = args.weights or weights_path()
    steps = args.steps or FINETUNE_STEPS
    entries = split_entries(args.split, args.fonts)
    heldout = args.split == "heldout"
    fontset.install(entries, HELDOUT_LIST if heldout else fontset.FONT_LIST)
    out = args.out or Path("docs/QUALITY.md" if heldout else "docs/quality/validation.md")
    reports = []
    for entry in [] if args.typesetting_only else entries:
        bar, progress = _bar(f"finetune {entry.name}")
        with bar:
            reports.append(
                evaluate_font(
                    entry, weights, args.cache, steps=steps, n_eval=args.n_eval, progress=progress
                )
            )
    split = "" if heldout else " --split validation"
    settings = (
        f"Made by `geulssi eval{split} --steps {steps} --n-eval {args.n_eval}` with weights "
        f"`{weights.name}` (2-core CPU).\n\n" + ("" if heldout else VALIDATION_NOTE + "\n\n") + PROTOCOL
    )
    sheets = out.parent / "quality" if heldout else out.parent
    title = "Quality" if heldout else "Quality: validation split (pretraining fonts)"
    if not args.typesetting_only:
        print(f"wrote {write_report(reports, out, sheets, settings, title)}")
    _typesetting(entries, out, sheets, f"geulssi eval{split} --typesetting-only")
    return 0


def _typesetting(entries: Any, out: Path, png_dir: Path, command: str) -> None:
    """Add the text-level typesetting section (services/packaging/text_eval.py) to `out`."""
    import tempfile

    from services.extraction.writing_line import spacing_from_image
    from services.packaging.text_report import typesetting_report

    with tempfile.TemporaryDirectory(prefix="geulssi-typeset-") as work:
        fonts = [(entry.name, entry.local_path()) for entry in entries]
        results = typesetting_report(fonts, out, png_dir, Path(work), command, line_reader=spacing_from_image)
        for result in results:
            ratios = f"advance ratio {result.advance_ratio:.2f}, CV ratio {result.cv_ratio:.2f}"
            print(f"typesetting {result.font}: {ratios}")
    print(f"wrote the typesetting section of {out}")
