"""Natural variation in the font: alternate glyphs (`uniXXXX.alt1`, ...) that OpenType `calt` cycles through.

A character repeated in a row (ㅋㅋㅋ, 하하하) takes its alternates in turn: X X X X -> X X.alt1 X.alt2 X.
The rules are chained contextual substitutions that look back at the glyph already chosen for the
previous character, so the cycle runs on however long the run is. The images come from
`alternates.draw_alternates` (or any `U+XXXX.altK.png` in the glyph directory).

    >>> scan_alternates(Path("glyphs/"))          # {0xD558: [Path("glyphs/U+D558.alt1.png"), ...]}
    >>> calt_feature({0xD558: 2})                   # "lookup calt_cycle { sub uniD558 uniD558' by ... }"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from services.packaging.font_tables import glyph_name

ALT_FILE = re.compile(r"U\+([0-9A-F]{4,6})\.alt([1-9])\.png")


def alt_glyph_name(codepoint: int, k: int) -> str:
    """Return the glyph name of alternate `k` (1-based) of a code point, e.g. 'uniD558.alt1'."""
    return f"{glyph_name(codepoint)}.alt{k}"


def scan_alternates(glyph_dir: Path) -> dict[int, list[Path]]:
    """Return {code point: [alternate image paths, alt1 first]} found in `glyph_dir`."""
    found: dict[int, dict[int, Path]] = {}
    for path in sorted(Path(glyph_dir).iterdir()):
        match = ALT_FILE.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(int(match.group(1), 16), {})[int(match.group(2))] = path
    return {cp: [alts[k] for k in sorted(alts)] for cp, alts in sorted(found.items())}


def calt_feature(counts: Mapping[int, int]) -> str:
    """Return feature code cycling each code point through its `counts[cp]` alternates (empty if none)."""
    rules = []
    for cp, count in sorted(counts.items()):
        if count < 1:
            continue
        base = glyph_name(cp)
        cycle = [base] + [alt_glyph_name(cp, k) for k in range(1, count + 1)]
        rules += [f"    sub {cycle[i]} {base}' by {cycle[i + 1]};" for i in range(count)]
    if not rules:
        return ""
    return "\n".join(["lookup calt_cycle {", *rules, "} calt_cycle;", "", "feature calt {",
                      "    lookup calt_cycle;", "} calt;"]) + "\n"  # fmt: skip
