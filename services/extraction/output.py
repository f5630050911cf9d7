"""Write an Extraction to a directory atomically: glyphs/U+XXXX.png, report.json and sheet.png."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from services.extraction.contact_sheet import contact_sheet

if TYPE_CHECKING:
    from services.extraction.results import Extraction


def write_extraction(extraction: Extraction, out_dir: Path) -> None:
    """Write glyphs/U+XXXX.png for every usable cell, report.json and sheet.png into `out_dir`.

    Everything goes to a temporary directory beside `out_dir` first and replaces it in one rename, so a
    failure leaves no half-written result. An existing `out_dir` is replaced only if it is empty or holds
    a previous extraction (a report.json); anything else raises ValueError rather than deleting files.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ValueError(f"{out_dir} exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / "report.json").is_file():
            raise ValueError(f"{out_dir} already holds other files; choose a new or empty output directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    try:
        glyphs = staging / "glyphs"
        glyphs.mkdir()
        for cell in extraction.cells:
            if cell.usable and cell.image is not None:
                Image.fromarray(cell.image).save(glyphs / cell.file_name)
        with open(staging / "report.json", "w", encoding="utf-8") as f:
            json.dump(extraction.report(), f, ensure_ascii=False, indent=1)
            f.write("\n")
        Image.fromarray(contact_sheet(extraction.cells)).save(staging / "sheet.png")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put `staging` at `out_dir`; an old `out_dir` is moved aside and removed once the new one is in."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-old-"))
    os.replace(out_dir, old / "previous")
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(old / "previous", out_dir)  # put the old result back rather than leave nothing
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
