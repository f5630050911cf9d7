"""What extraction reads: one cell, one photo's page, and all photos of an upload combined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.extraction.ink import STATUS_MEANING, USABLE
from templates.layout import build_layout


@dataclass
class CellResult:
    """One template cell as read from a photo (or not): status and, when read, its writing-box image."""

    char: str
    codepoint: int
    page: int
    status: str  # ok | empty | faint | overflow | smudged | outside | missing
    image: np.ndarray | None  # uint8 grayscale writing box (255 paper); None when the cell was not seen
    ink_ratio: float = 0.0  # share of the box covered by ink
    strength: float = 0.0  # typical ink darkness before contrast normalization (0..1)
    overflow_px: int = 0  # ink pixels beyond the box outline
    photo: str | None = None  # the photo it was read from

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    @property
    def file_name(self) -> str:
        return f"U+{self.codepoint:04X}.png"

    def to_report(self) -> dict[str, Any]:
        return {
            "char": self.char, "codepoint": self.codepoint, "page": self.page, "status": self.status,
            "file": f"glyphs/{self.file_name}" if self.usable else None, "photo": self.photo,
            "ink_ratio": self.ink_ratio, "strength": self.strength, "overflow_px": self.overflow_px,
            "message": STATUS_MEANING.get(self.status, ""),
        }


@dataclass
class PageExtraction:
    """Everything read from one photo: the page it shows, a JSON-able report and its cells in layout order."""

    photo: str
    page: int
    report: dict[str, Any]
    cells: list[CellResult]
    line: np.ndarray | None = None  # ink mask of the page's writing line, when it has one in the photo

    @property
    def quality(self) -> float:
        """How good this photo's glyph images are: sharpness (effective resolution) times the share of
        cells it shows (not cut off or covered). Photos of one page show the same writing; this is what
        differs.
        """
        hidden = ("outside", "smudged", "glare")
        shown = sum(c.status not in hidden for c in self.cells) / max(1, len(self.cells))
        return float(self.report["sharpness"]) * shown


@dataclass
class Extraction:
    """All photos of one upload combined: every template cell once, plus a report entry per photo."""

    template_version: str
    photos: list[dict[str, Any]]
    cells: list[CellResult]
    notes: list[str] = field(default_factory=list)
    spacing: dict[str, Any] | None = None  # the writing line's reading (`writing_line.estimate_spacing`)

    @property
    def measured_spacing(self) -> dict[str, float] | None:
        """{"gap", "space"} when the writing line gave the writer's spacing, else None."""
        return measured_spacing(self.spacing)

    def report(self) -> dict[str, Any]:
        """The report.json document."""
        cells = [c for p in build_layout().pages for c in p.cells]
        sizes = sorted({(c.box[2] - c.box[0], c.box[3] - c.box[1]) for c in cells})
        return {
            "template_version": self.template_version,
            "dpi": build_layout().dpi,
            "box_size_px": list(sizes[0]) if len(sizes) == 1 else [list(s) for s in sizes],
            "summary": dict(Counter(c.status for c in self.cells)),
            "notes": self.notes,
            "spacing": self.spacing or {"status": "not written", "message": "no writing line was read"},
            "photos": self.photos,
            "cells": [c.to_report() for c in self.cells],
        }


def measured_spacing(entry: Mapping[str, Any] | None) -> dict[str, float] | None:
    """{"gap", "space"} from a writing-line report entry whose status is "measured", else None."""
    if not entry or entry.get("status") != "measured":
        return None
    return {"gap": float(entry["gap"]), "space": float(entry["space"])}
