"""Entry point of the `geulssi` command: builds the argument parser and turns bad input into a clear exit."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

# Each module exposes `register(subparsers)`, adding its commands with `set_defaults(func=...)`.
# A command's func takes the parsed namespace and returns an exit code.
COMMAND_MODULES = (
    "services.cli.template_cmd",
    "services.cli.extract_cmd",
    "services.cli.model_cmd",
    "services.cli.package_cmd",
    "services.cli.build_cmd",
    "services.cli.service_cmd",
    "services.cli.ops_cmd",
    "services.cli.demo_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="geulssi", description="Turn handwriting into a Korean font.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command group not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input (ValueError, OSError) becomes `error: ...` on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
