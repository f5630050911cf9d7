"""`geulssi extract PHOTO... --out DIR`: read glyphs from photos of the filled-in template."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from services.extraction.extract import PhotoError, extract_file, merge_pages, write_extraction


def register(subparsers: Any) -> None:
    """Add the `extract` command."""
    parser = subparsers.add_parser(
        "extract", help="find template pages in photos and write one glyph image per character",
        description="Find the template pages in photos, write DIR/glyphs/U+XXXX.png for every readable cell, "
                    "DIR/report.json and DIR/sheet.png (all cells, framed by status). Nothing is written if "
                    "any photo cannot be read.")
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO",
                        help="photos (JPEG, PNG, HEIC) or PDF scans of filled-in pages")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read every photo, then write the merged result; a bad photo stops it before writing (exit 2)."""
    pages = []
    errors = []
    for path in args.photos:
        try:
            pages += extract_file(path.read_bytes(), str(path))  # a PDF may hold every page
        except PhotoError as exc:
            errors.append(f"{path}: {exc}")
        except OSError as exc:
            errors.append(f"{path}: cannot read the file ({exc.strerror or exc})")
    if errors:
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
        print(f"error: nothing written; fix or leave out the photo{'s' if len(errors) > 1 else ''} above",
              file=sys.stderr)
        return 2
    extraction = merge_pages(pages)
    write_extraction(extraction, args.out)
    for photo in extraction.photos:
        print(f"{photo['file']}: page {photo['page']}, {photo['status']} - {photo['message']}")
    counts = Counter(c.status for c in extraction.cells)
    summary = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    print(f"{args.out}: {counts.get('ok', 0)} glyphs written ({summary})")
    return 0
