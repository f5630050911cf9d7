"""The typesetting section of docs/QUALITY.md: `text_eval` run on held-out and pretraining fonts, the
writing line's reading checked on the pretraining handwriting faces, and the tables.

    >>> typesetting_report(fonts, Path("docs/QUALITY.md"), Path("docs/quality"), Path("work/"), command,
    ...                    line_reader=spacing_from_image)                               # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from services.packaging.spacing_check import LineCheck, line_check_table, spacing_cells, true_spacing
from services.packaging.text_eval import (
    JITTER,
    SECTION_END,
    SECTION_START,
    TUNING_FONTS,
    LineReader,
    TypesetResult,
    read_written_line,
    typeset_eval,
    write_section,
)

NOTES = (
    "Reading the table. A writing box says nothing about how far apart a writer sets syllables; the",
    "writing line does. The Latin page has a ruled strip where the writer writes a short phrase",
    "(`templates.layout.LINE_PHRASE`, template syllables only) as they normally write;",
    "`services/extraction/writing_line.py` splits its ink at the empty columns between syllables, takes",
    "the median gap as the two side bearings together and the widest gap less that as the space, both",
    "as shares of the writer's median syllable size (from their writing boxes, brought to the line's",
    "size by each syllable's ink height on the line against its box). Here the simulated writer sets",
    "the phrase from the true font with HarfBuzz (its own advances and kerning, pen 0.8 of the boxes').",
    "An empty, unreadable or implausible line (old printouts have none) keeps the default spacing: the",
    "median of the pretraining handwriting faces (side bearings together 0.075 of the median",
    "syllable size, a space 0.325 of it), the figures this table showed before the line existed",
    "(Gaegu 0.86). No constant of the reading or of the fonts was chosen on a held-out font: the",
    "reading was checked only on the pretraining handwriting faces (table above). Sizes come from the",
    "written syllables, Latin proportions from the written letters on the printed baseline, both as",
    "written; Latin is",
    "sized against Hangul through the writing-box scale (cap height over the paragraph's median",
    "syllable ink height, checked by hand: Gaegu 0.80 ours vs 0.74 true, Poor Story 0.78 vs 0.75). Not in",
    "these figures: the generator (a perfect one is assumed here; its own scores are in the tables",
    "above), kerning (on in both fonts; ours is computed from our outlines), the 51 jamo, the drawn",
    "marks and the `calt` alternates (tested through HarfBuzz in tests/integration/test_package_shaping.py).",
)
TARGETS = "advance ratio 0.9-1.1, CV ratio 0.7-1.3, x-height/cap-height difference <= 0.05"


def _row(r: TypesetResult, doc_dir: Path) -> str:
    """One Markdown table row for a result, with pass marks against the targets."""

    def mark(ok: bool) -> str:
        return "✓" if ok else "✗"

    xcap = "n/a"
    if r.x_over_cap_diff is not None and r.truth.x_over_cap and r.ours.x_over_cap:
        xcap = f"{r.truth.x_over_cap:.3f} / {r.ours.x_over_cap:.3f} {mark(r.x_over_cap_diff <= 0.05)}"
    png = f"[{r.png.name}]({r.png.relative_to(doc_dir).as_posix()})" if r.png else ""
    return (
        f"| {r.font} | {r.truth.advance_over_height:.1f} / {r.ours.advance_over_height:.1f} | "
        f"{r.advance_ratio:.2f} {mark(0.9 <= r.advance_ratio <= 1.1)} | "
        f"{r.truth.height_cv:.3f} / {r.ours.height_cv:.3f} | "
        f"{r.cv_ratio:.2f} {mark(0.7 <= r.cv_ratio <= 1.3)} | "
        f"{xcap} | {spacing_cells(r.spacing, r.line) if r.spacing else '| '} | {png} |"
    )


def typesetting_section(
    results: list[TypesetResult],
    tuning: list[TypesetResult],
    doc_dir: Path,
    command: str,
    checks: list[LineCheck] | None = None,
) -> str:
    """Return the Markdown section (between the markers) for held-out `results` and `tuning` fonts."""
    header = [
        "| font | advance / ink height | ratio | height CV | ratio | x-height / cap height | "
        "gap true / read | space true / read | paragraph |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines = [
        SECTION_START,
        "## Typesetting: running text against the true font",
        "",
        f"Made by `{command}`. Protocol: `services/packaging/text_eval.py` (typesetting only: the",
        "template's 200 syllables and 94 Latin characters are rendered from the true font into 200 px",
        f"writing boxes, size jittered ±{JITTER:.0%}; the paragraph's other syllables are rendered straight",
        "into the writer's canonical space, i.e. a perfect generator; `package_font` builds our font).",
        "Figures on the fixed paragraph (HarfBuzz, `kern` on): advance of the whole line over the median",
        "ink height of its syllables; CV (std/mean) of its syllables' ink heights; yMax(x)/yMax(H).",
        f"Targets: {TARGETS}. Each cell is true font / ours; the figures show the true font above ours.",
        "",
        "Spacing (side bearings and the space) is the writer's own, read from the writing line the simulated",
        "writer fills in too (below the tables); gap and space are shares of the median syllable size,",
        "true font / as read. The size constants (`services/packaging/normalize.py`, `jamo.py`, `marks.py`)",
        "and the default spacing were chosen on pretraining fonts only: the default side bearings and space",
        "from the 7 proportional handwriting faces of pretrain.tsv (median), line position, cap height and",
        "jamo sizes from Nanum Pen Script and Nanum Brush Script (table below). All five held-out fonts were",
        "looked at (figures and tables) only after that, to measure; no constant was changed for them.",
        "",
        *header,
        *(_row(r, doc_dir) for r in results),
    ]
    if tuning:
        lines += ["", "Pretraining fonts the constants were chosen on, same protocol:", "", *header]
        lines += [_row(r, doc_dir) for r in tuning]
    if checks:
        lines += ["", "The writing line's reading on every pretraining handwriting face (the phrase set from",
                  "the face as above; gap and space as shares of the median syllable size):", "",
                  *line_check_table(checks)]
    lines += ["", *NOTES, "", SECTION_END]
    return "\n".join(lines)


def typesetting_report(
    fonts: list[tuple[str, Path]],
    markdown: Path,
    png_dir: Path,
    workdir: Path,
    command: str,
    line_reader: LineReader | None = None,
    check_fonts: list[tuple[str, Path]] | None = None,
) -> list[TypesetResult]:
    """Run `typeset_eval` on each (name, font file) and on TUNING_FONTS; write the PNGs and the section.

    With a `line_reader`, the writing line is also read for each of `check_fonts` (default: the
    pretraining handwriting faces installed here) and checked against their true spacing."""

    def run(named: list[tuple[str, Path]], tag: str) -> list[TypesetResult]:
        return [
            typeset_eval(path, name, workdir / f"{tag}{i}", png_dir, line_reader)
            for i, (name, path) in enumerate(named)
        ]

    results = run(fonts, "font")
    tuning = run([(name, path) for name, path in TUNING_FONTS if path.is_file()], "tuning")
    checks = []
    if line_reader is not None:
        named = pretraining_handwriting() if check_fonts is None else check_fonts
        checks = [
            LineCheck(name, true_spacing(path), read_written_line(path, line_reader)) for name, path in named
        ]
    write_section(markdown, typesetting_section(results, tuning, markdown.parent, command, checks))
    return results


def pretraining_handwriting() -> list[tuple[str, Path]]:
    """(name, path) of the pretraining handwriting faces installed on this machine."""
    from models.fontset import PRETRAIN

    faces = [(e.name, e.local_path()) for e in PRETRAIN if "handwriting" in e.style_class]
    return [(name, path) for name, path in faces if path.is_file()]
