"""The `geulssi template` command: write the printable handwriting template."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `template` command to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "template",
        help="write the printable template (template.pdf, page-N.png, layout.json)",
        description="Write the handwriting template; print it on A4 at 100 %, fill it in, photograph it.",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write into (created if missing)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the template into args.out, print what was written, return 0."""
    from templates.render import write_template  # imported here so `geulssi --help` stays fast

    for path in write_template(args.out):
        print(path)
    return 0
