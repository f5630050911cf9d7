"""The whole pipeline after extraction, top to bottom: fine-tune -> generate -> trace -> normalize -> package.

Extraction (photo -> writing-box glyphs) happens when pages are uploaded; everything after it lives here,
so this file is the one place to read to know what happens to a person's handwriting.

    >>> files = build_font(glyphs, Path("work/"), "Hong Gildong", options=BuildOptions(finetune_steps=50))
    >>> files.ttf, files.woff2, files.preview
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import models
from models import glyph_space, hangul
from models.finetune import finetune
from models.generate import generate
from models.glyph_files import glyph_filename, write_png
from models.repair import repair_generated
from services.packaging.alternates import draw_alternates
from services.packaging.font_tables import check_family_name
from services.packaging.hand import save_hand
from services.packaging.package import PackageReport, package_font

STAGES = ("finetune", "generate", "trace", "normalize", "package")  # the stages a job reports
Progress = Callable[[str, float], None]
# package_font runs trace, normalize and package in one call: the share of its progress each stage
# covers, and the name of each stage's entry in its timings.
PACKAGE_SPANS = (
    ("trace", 0.0, 0.85, "trace"),
    ("normalize", 0.85, 0.92, "normalize"),
    ("package", 0.92, 1.0, "tables"),
)


@dataclass(frozen=True)
class BuildOptions:
    """Knobs of one build; the defaults are the product's settings."""

    finetune_steps: int | None = None  # None: the fine-tuner's default
    device: str | None = None  # None: CUDA when present, else CPU
    base_weights: Path | None = None  # None: the committed pretrained weights
    workers: int = 1  # processes for tracing
    variants: bool = True  # alternates of frequent syllables, cycled by `calt`


@dataclass(frozen=True)
class FontFiles:
    """What a build leaves behind, plus how long each stage took."""

    ttf: Path
    woff2: Path
    preview: Path
    seconds: dict[str, float] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # glyphs the font had to leave out, and why
    repaired: tuple[str, ...] = ()  # generated syllables that were replaced, and how
    # Kept so that a re-package needs no fine-tune: the writer's generator and every traced glyph image.
    checkpoint: Path | None = None
    glyph_dir: Path | None = None


def build_font(
    glyphs: Mapping[int, np.ndarray],
    workdir: Path,
    family_name: str,
    *,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    spacing: Mapping[str, float] | None = None,
) -> FontFiles:
    """Turn a writer's glyphs (codepoint -> writing-box image) into FONT.ttf/.woff2/-preview.png in `workdir`.

    `spacing` is the writer's spacing in running text as extraction read it from their writing line
    (`Extraction.measured_spacing`: {"gap", "space"}); without it the fonts use the default spacing.
    `progress(stage, fraction)` is called as each stage advances. Raises ValueError for unusable input
    (too few Hangul glyphs, a bad family name).
    """
    options = options or BuildOptions()
    report = progress or (lambda stage, fraction: None)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    check_family_name(family_name)  # fail before minutes of fine-tuning, not after
    seconds: dict[str, float] = {}

    def timed(stage: str) -> Callable[[int, int], None]:
        seconds[stage] = time.perf_counter()
        report(stage, 0.0)
        return lambda done, total: report(stage, done / max(total, 1))

    def done(stage: str) -> None:
        seconds[stage] = time.perf_counter() - seconds[stage]
        report(stage, 1.0)

    # 1. fine-tune: the pretrained generator learns this writer's hand from the template glyphs.
    checkpoint = workdir / "writer.pt"
    base_weights = options.base_weights or models.weights_path()
    finetune(
        glyphs,
        base_weights,
        checkpoint,
        device=options.device,
        progress=timed("finetune"),
        **({"steps": options.finetune_steps} if options.finetune_steps else {}),
    )
    done("finetune")

    # 2. generate: all 11,172 syllables in the writer's style; the written ones are kept as written.
    # A syllable the fine-tuned generator drew blank, as a blot or at an absurd size is redrawn in the
    # writer's seed styles (or taken from the source font), so the font never misses a syllable.
    glyph_dir = workdir / "glyphs"
    generate(checkpoint, glyph_dir, written=glyphs, device=options.device, progress=timed("generate"))
    kept = set(glyph_space.inked_syllables(glyphs))  # generate keeps these as written
    repaired = repair_generated(glyph_dir, checkpoint, base_weights, skip=kept, device=options.device)
    if options.variants:  # handwriting never repeats: 2 alternates of frequent syllables for `calt`
        draw_alternates(checkpoint, base_weights, glyph_dir, device=options.device)
    done("generate")
    for cp, image in glyphs.items():  # written Latin glyphs join the generated Hangul as they are
        if not hangul.is_syllable(cp):
            write_png(glyph_dir / glyph_filename(cp), image)

    # 3-5. trace (potrace: smooth outlines, specks dropped, holes kept) -> normalize (Hangul at the writer's
    # sizes on one visual line with proportional advances, spaced as on their writing line; Latin by letter
    # class on the baseline) -> package (the 51 jamo, stand-in marks, kerning, calt alternates; TrueType
    # tables, WOFF2, preview).
    def packaging(fraction: float) -> None:
        for stage, begin, end, _ in PACKAGE_SPANS:
            if fraction < end or stage == "package":
                report(stage, min((fraction - begin) / (end - begin), 1.0))
                return

    # The written syllables set the writer's sizes, and Latin is sized against them; the writing line sets
    # the side bearings and the space (all kept for re-packages).
    box_scale = glyph_space.writer_scale(glyph_space.inked_syllables(glyphs).values())
    save_hand(glyph_dir, kept, box_scale, spacing)
    result = package_font(
        glyph_dir,
        workdir / "font.ttf",
        family_name,
        progress=packaging,
        workers=options.workers,
        variants=options.variants,
    )
    for stage, _, _, timing_key in PACKAGE_SPANS:
        seconds[stage] = result.seconds.get(timing_key, 0.0)
        report(stage, 1.0)
    return _font_files(result, seconds, repaired, checkpoint, glyph_dir)


def repackage_font(
    glyph_dir: Path,
    checkpoint: Path,
    workdir: Path,
    family_name: str,
    codepoints: list[int],
    *,
    attempt: int = 0,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
) -> FontFiles:
    """Redraw the syllables a writer marked as wrong in a finished build's glyphs, then trace, normalize
    and package again: no fine-tune, so it takes seconds to a minute rather than many minutes."""
    from services.pipeline.redraw import redraw_syllables

    options = options or BuildOptions()
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    report("redraw", 0.0)
    base_weights = options.base_weights or models.weights_path()
    redrawn = redraw_syllables(
        glyph_dir, checkpoint, base_weights, codepoints, attempt=attempt, device=options.device
    )
    seconds = {"redraw": time.perf_counter() - started}
    report("redraw", 1.0)

    def packaging(fraction: float) -> None:
        report("package", fraction)

    result = package_font(
        glyph_dir,
        Path(workdir) / "font.ttf",
        family_name,
        progress=packaging,
        workers=options.workers,
        variants=options.variants,
    )
    seconds["package"] = sum(result.seconds.get(key, 0.0) for _, _, _, key in PACKAGE_SPANS)
    return _font_files(result, seconds, redrawn, Path(checkpoint), Path(glyph_dir))


def _font_files(
    result: PackageReport,
    seconds: dict[str, float],
    replaced: Mapping[int, str],
    checkpoint: Path | None,
    glyph_dir: Path | None,
) -> FontFiles:
    """What a build or a re-package hands back: the files, stage times, what was left out or replaced."""
    return FontFiles(
        ttf=result.ttf,
        woff2=result.woff2,
        preview=result.preview,
        seconds=seconds,
        problems=tuple(f"U+{issue.codepoint:04X}: {issue.reason}" for issue in result.broken),
        repaired=tuple(f"U+{cp:04X}: {how}" for cp, how in sorted(replaced.items())),
        checkpoint=checkpoint,
        glyph_dir=glyph_dir,
    )
