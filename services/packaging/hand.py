"""Facts about the writer's hand that packaging needs besides the glyph images, kept beside them.

Which canonical syllables were written by hand (they set the writer's sizes) and the writing-box scale
(canonical pixels per box pixel, which sizes Latin against Hangul as written), and the writer's spacing in
running text when their writing line was measured. The build flow saves them
in GLYPH_DIR/.hand.json so that a later re-package of the same directory typesets the same way.

    >>> save_hand(Path("glyphs/"), written={0xAC00, ...}, box_scale=0.62)
    >>> load_hand(Path("glyphs/"))        # ({0xAC00, ...}, 0.62), or (None, None) without the file
    >>> load_spacing(Path("glyphs/"))     # {"gap": 0.2, "space": 0.66}, or None when not measured
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path

HAND_FILE = ".hand.json"  # a dot file: `scan_glyph_dir` neither reads nor reports it


def save_hand(
    glyph_dir: Path, written: Collection[int], box_scale: float, spacing: Mapping[str, float] | None = None
) -> Path:
    """Write the hand facts into `glyph_dir` (atomically) and return the file's path."""
    if not box_scale > 0:
        raise ValueError(f"the writing-box scale must be positive, got {box_scale}")
    path = Path(glyph_dir) / HAND_FILE
    tmp = path.with_name(f"{HAND_FILE}.tmp")
    facts: dict[str, object] = {"written": sorted(written), "box_scale": box_scale}
    if spacing is not None:
        facts["spacing"] = {"gap": float(spacing["gap"]), "space": float(spacing["space"])}
    tmp.write_text(json.dumps(facts), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_hand(glyph_dir: Path) -> tuple[set[int] | None, float | None]:
    """Return (written syllables, box scale) saved in `glyph_dir`, or (None, None) if none are readable."""
    path = Path(glyph_dir) / HAND_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        written, scale = {int(cp) for cp in data["written"]}, float(data["box_scale"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    return (written, scale) if scale > 0 else (None, None)


def load_spacing(glyph_dir: Path) -> dict[str, float] | None:
    """Return the writer's measured spacing ({"gap", "space"}) saved in `glyph_dir`, or None."""
    try:
        data = json.loads((Path(glyph_dir) / HAND_FILE).read_text(encoding="utf-8"))
        return {"gap": float(data["spacing"]["gap"]), "space": float(data["spacing"]["space"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
