"""The report `geulssi eval` writes: a markdown table of every system, a readability summary, PNG sheets."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from models.readability import BrokenShare

TRUTH = "truth (OCR ceiling)"
SYSTEMS = ("source font", "nearest pretraining font", "before fine-tuning", "fine-tuned")
COLUMNS = ("ssim", "l1", "iou", "cer", "broken", "sentence_cer")
SENTENCE_FACTOR, SENTENCE_SLACK = 1.2, 0.02  # target: ours <= 1.2 x the true font's CER + 0.02
BROKEN_LISTED = 40
KEPT_SECTION = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.S)


@dataclass
class FontReport:
    """Scores of every system on one font, its side-by-side sheet, broken syllables and hard sheet."""

    font: str
    n_template: int
    n_eval: int
    seeds: list[tuple[str, float]]
    scores: dict[str, dict[str, float]]
    sheet: np.ndarray
    finetune_seconds: float
    broken: BrokenShare | None = None  # the fine-tuned model's
    hard_sheet: np.ndarray | None = None


def slug(font: str) -> str:
    """Return the file-name form of a font name ('Gaegu Light' -> 'gaegu-light')."""
    return font.lower().replace(" ", "-")


def sentence_target(true_cer: float) -> float:
    """Return the highest sentence CER that meets the target for a font whose own CER is `true_cer`."""
    return SENTENCE_FACTOR * true_cer + SENTENCE_SLACK


def _num(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3f}"


def _summary(reports: list[FontReport]) -> list[str]:
    """Return the per-font summary of the fine-tuned model against the issue's targets."""
    lines = [
        "| font | SSIM ↑ | ink IoU ↑ | broken share ↓ | sentence CER ↓ | true font's | ratio | target met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        ours, truth = r.scores.get("fine-tuned", {}), r.scores.get(TRUTH, {})
        cer, true_cer = ours.get("sentence_cer"), truth.get("sentence_cer")
        ratio = met = ""
        if cer is not None and true_cer is not None:
            ratio = f"{cer / true_cer:.2f}x" if true_cer > 0 else "inf"
            met = "yes" if cer <= sentence_target(true_cer) else "no"
        lines.append(
            f"| {r.font} | {_num(ours.get('ssim'))} | {_num(ours.get('iou'))} | {_num(ours.get('broken'))} "
            f"| {_num(cer)} | {_num(true_cer)} | {ratio} | {met} |"
        )
    means = {k: [r.scores["fine-tuned"][k] for r in reports if k in r.scores.get("fine-tuned", {})]
             for k in ("ssim", "iou", "broken", "sentence_cer")}  # fmt: skip
    cells = [_num(float(np.nanmean(v))) if v else "" for v in means.values()]
    lines.append(f"| mean | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |  |  |  |")
    return lines


def write_colour_sheet(path: Path, bgr: np.ndarray) -> None:
    """Write a BGR sheet as a 16-colour palette PNG (a sixth of the size; grey ink and two frame colours)."""
    Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).quantize(colors=16).save(path, optimize=True)


def _broken_line(r: FontReport) -> str:
    b = r.broken
    if b is None:
        return ""
    listed = ", ".join(f"{chr(cp)}→{b.misread_as[cp] or '∅'}" for cp in b.broken[:BROKEN_LISTED])
    more = f" and {len(b.broken) - BROKEN_LISTED} more" if len(b.broken) > BROKEN_LISTED else ""
    return (
        f"Tesseract read {b.readable} of the {r.n_eval} scored syllables right in the true font; the "
        f"fine-tuned model's versions of {len(b.broken)} of them read wrong (true → read): {listed}{more}."
    )


def write_report(
    reports: list[FontReport], out_md: Path, sheet_dir: Path, settings: str, title: str = "Quality"
) -> Path:
    """Write docs/QUALITY.md-style markdown and the PNG sheets of each font; return the markdown path.

    Sections of an existing `out_md` between `<!-- name:start -->` and `<!-- name:end -->` are kept
    (moved to the end).
    """
    sheet_dir.mkdir(parents=True, exist_ok=True)
    old = out_md.read_text(encoding="utf-8") if out_md.is_file() else ""
    kept = [m.group(0) for m in KEPT_SECTION.finditer(old)]
    lines = [
        f"# {title}",
        "",
        settings.strip(),
        "",
        "| font | system | SSIM ↑ | L1 ↓ | ink IoU ↑ | OCR CER ↓ | broken share ↓ | sentence CER ↓ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        for name in (TRUTH, *SYSTEMS):
            s = r.scores.get(name)
            if s is not None:
                lines.append(f"| {r.font} | {name} | " + " | ".join(_num(s.get(k)) for k in COLUMNS) + " |")
    lines += ["", "## Fine-tuned against the targets", "", *_summary(reports), ""]
    rel = sheet_dir.relative_to(out_md.parent) if sheet_dir.is_relative_to(out_md.parent) else sheet_dir
    for r in reports:
        name = slug(r.font)
        cv2.imwrite(str(sheet_dir / f"{name}.png"), r.sheet)
        seeds = ", ".join(f"{n} ({w:.2f})" for n, w in r.seeds)
        lines += [
            f"## {r.font}",
            "",
            f"{r.n_template} template syllables written, {r.n_eval} other KS X 1001 syllables scored; "
            f"fine-tuning took {r.finetune_seconds:.0f} s; seed styles: {seeds}.",
            "",
            f"![{r.font}]({rel}/{name}.png)",
            "",
            "Rows: truth, " + ", ".join(s for s in SYSTEMS if s in r.scores) + ".",
            "",
        ]
        if r.hard_sheet is not None:
            write_colour_sheet(sheet_dir / f"hard-{name}.png", r.hard_sheet)
            lines += [
                f"![{r.font}: hardest syllables]({rel}/hard-{name}.png)",
                "",
                "Hardest syllables, rows truth and fine-tuned (grey: the font lacks it); frames: red = "
                "Tesseract reads the true glyph right and ours wrong, green = both right.",
                "",
            ]
        if r.broken is not None:
            lines += [_broken_line(r), ""]
    for section in kept:
        lines += [section, ""]
    tmp = out_md.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(out_md)
    return out_md
