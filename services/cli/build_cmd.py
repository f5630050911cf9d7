"""`geulssi build GLYPH_DIR --out FONT.ttf --name NAME`: written glyphs -> fine-tune -> generate -> font."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

from models.glyph_files import read_glyph_dir
from models.glyph_space import ink_bbox
from services.cli.package_cmd import print_coverage
from services.packaging.coverage import coverage_report
from services.pipeline.flow import STAGES, BuildOptions, build_font


def register(subparsers: Any) -> None:
    """Add the `build` command."""
    parser = subparsers.add_parser(
        "build",
        help="make a whole font from written glyphs: fine-tune, generate, trace, normalize, package",
        description="GLYPH_DIR holds the writer's U+XXXX.png writing-box images as `geulssi extract` "
        "writes them (about 200 Hangul, optionally the 94 Latin). Writes FONT.ttf, FONT.woff2 and "
        "FONT-preview.png. Uses a CUDA GPU when present.",
    )
    parser.add_argument("glyph_dir", type=Path, metavar="GLYPH_DIR", help="directory of U+XXXX.png glyphs")
    parser.add_argument("--out", required=True, type=Path, metavar="FONT.ttf", help="the TTF to write")
    parser.add_argument("--name", default="My Handwriting", help="font family name (default: My Handwriting)")
    parser.add_argument("--steps", type=int, default=None, help="fine-tuning steps (default: the product's)")
    parser.add_argument("--workers", type=int, default=1, help="processes for tracing (default 1)")
    parser.add_argument(
        "--no-variants",
        action="store_true",
        help="no alternates of frequent syllables (by default `calt` cycles 2 alternates, e.g. ㅋㅋㅋ)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build in a scratch directory and move the three files next to --out only when all exist."""
    if args.out.suffix.lower() != ".ttf":
        raise ValueError(f"the output must be a .ttf file, got {args.out.name}")
    glyphs = read_glyph_dir(args.glyph_dir)
    spacing = _measured_spacing(args.glyph_dir)
    print_coverage(coverage_report(cp for cp, image in glyphs.items() if ink_bbox(image) is not None))
    options = BuildOptions(finetune_steps=args.steps, workers=args.workers, variants=not args.no_variants)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, fraction: float) -> None:
        bar = bars.setdefault(stage, tqdm(total=100, desc=f"{STAGES.index(stage) + 1}/5 {stage}", unit="%"))
        bar.n = round(100 * fraction)
        bar.refresh()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out.parent, prefix=".geulssi-build-") as scratch:
        try:
            files = build_font(
                glyphs, Path(scratch), args.name, options=options, progress=progress, spacing=spacing
            )
        finally:
            for bar in bars.values():
                bar.close()
        targets = (
            args.out,
            args.out.with_suffix(".woff2"),
            args.out.with_name(f"{args.out.stem}-preview.png"),
        )
        for source, target in zip((files.ttf, files.woff2, files.preview), targets, strict=True):
            shutil.move(str(source), target)
            print(f"wrote {target}")
    if files.repaired:
        print(f"note: {len(files.repaired)} generated syllables were redrawn, e.g. {files.repaired[0]}")
    for problem in files.problems[:20]:
        print(f"warning: left out {problem}")
    return 0


def _measured_spacing(glyph_dir: Path) -> dict[str, float] | None:
    """The writer's spacing from the report.json `geulssi extract` wrote beside GLYPH_DIR, if measured."""
    try:
        entry = json.loads((glyph_dir.parent / "report.json").read_text(encoding="utf-8"))["spacing"]
        if entry["status"] == "measured":
            print(f"spacing from the writing line: gap {entry['gap']:.3f}, space {entry['space']:.3f}")
            return {"gap": float(entry["gap"]), "space": float(entry["space"])}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    print("no measured writing line beside the glyphs: the default spacing is used")
    return None
