"""`geulssi package GLYPH_DIR --out FONT.ttf --name NAME`: glyph images -> TTF, WOFF2 and a preview PNG."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.packaging.coverage import MissingChar
from services.packaging.normalize import is_hangul
from services.packaging.package import PackageReport, package_font

SHOW = 20  # glyph problems listed one per line before the rest are counted


def register(subparsers: Any) -> None:
    """Add the `package` command."""
    parser = subparsers.add_parser(
        "package",
        help="trace glyph images and build an installable font (TTF, WOFF2, preview)",
        description="Trace every U+XXXX.png in GLYPH_DIR, place it on the font's lines and write FONT.ttf, "
        "FONT.woff2 and FONT-preview.png. Unusable glyphs are left out and listed; the command fails "
        "only when no Hangul syllable is usable.",
    )
    parser.add_argument("glyph_dir", type=Path, metavar="GLYPH_DIR", help="directory of U+XXXX.png glyphs")
    parser.add_argument("--out", required=True, type=Path, metavar="FONT.ttf", help="the TTF to write")
    parser.add_argument("--name", required=True, help='font family name, e.g. "Hong Gildong" or "홍길동체"')
    parser.add_argument("--workers", type=int, default=1, help="processes for tracing (default 1)")
    parser.add_argument(
        "--no-variants", action="store_true", help="leave out alternates (U+XXXX.altK.png) and `calt`"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the font and print what was written and what was left out; 0 when a font was written."""
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    report = package_font(
        args.glyph_dir, args.out, args.name, workers=args.workers, variants=not args.no_variants
    )
    for path in (report.ttf, report.woff2, report.preview):
        print(f"wrote {path}")
    print(
        f"{report.hangul_count} Hangul syllables, {report.latin_count} Latin characters and "
        f"{report.jamo_count} jamo in the font"
        + (f" (+{report.alternates} alternates)" if report.alternates else "")
    )
    print_problems(report)
    print_coverage(report.coverage)
    return 0


def print_coverage(missing: Sequence[MissingChar]) -> None:
    """Print which characters of the font's set the font lacks or draws as simple marks (to stderr)."""
    drawn = "".join(m.char for m in missing if m.fallback == "drawn")
    lacking = "".join(m.char for m in missing if m.fallback == "none")
    if drawn:
        print(f"note: not written, drawn as simple marks with the writer's pen: {drawn}", file=sys.stderr)
    if lacking:
        print(
            f"warning: the font will lack {len(lacking)} characters (not written or not usable; systems "
            f"show another font): {lacking}",
            file=sys.stderr,
        )


def print_problems(report: PackageReport) -> None:
    """Print broken glyphs (each, up to SHOW), missing characters (counted) and ignored files to stderr."""
    for issue in report.broken[:SHOW]:
        print(f"warning: left out {issue}", file=sys.stderr)
    if len(report.broken) > SHOW:
        print(f"warning: ... and {len(report.broken) - SHOW} more glyphs left out", file=sys.stderr)
    missing_hangul = sum(1 for cp in report.missing if is_hangul(cp))
    missing_latin = len(report.missing) - missing_hangul
    if report.missing:
        example = ", ".join(f"U+{cp:04X}" for cp in report.missing[:5])
        print(
            f"warning: no image for {missing_hangul} Hangul syllables and {missing_latin} Latin characters "
            f"(e.g. {example}); systems will show them in another font",
            file=sys.stderr,
        )
    if report.ignored:
        shown = ", ".join(report.ignored[:5]) + (" ..." if len(report.ignored) > 5 else "")
        print(f"warning: ignored {len(report.ignored)} files not named U+XXXX.png: {shown}", file=sys.stderr)
