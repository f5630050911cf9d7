"""The package stage: a directory of `U+XXXX.png` glyph images -> an installable font (TTF, WOFF2, preview).

Reads every glyph image, traces it (trace.py), places it (normalize.py, typeset.py: proportional
Hangul, Latin sized against it, the 51 jamo cut from the syllables, simple marks for missing . , ? !
and digits, alternates), turns it into a TrueType glyph (outline.py), adds pair kerning (kerning.py) and
`calt` alternates (variants.py), builds the tables (font_tables.py) and renders a preview (preview.py).
Glyphs that cannot be used are left out of the font and listed in the report with a reason; expected
characters without an image are listed as missing, and `coverage` says what the font lacks or draws.
It is fatal only when no Hangul syllable at all is usable.

    >>> report = package_font(Path("glyphs/"), Path("out/hong.ttf"), "Hong Gildong")
    >>> report.ttf, report.woff2, report.preview, report.broken
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from fontTools.pens.ttGlyphPen import TTGlyphPen
from PIL import Image

from services.packaging.coverage import MissingChar, coverage_report
from services.packaging.font_tables import build_font, check_family_name
from services.packaging.hand import load_hand, load_spacing
from services.packaging.jamo import is_jamo
from services.packaging.kerning import kern_feature
from services.packaging.normalize import SIDE_BEARING, Spacing, is_hangul, is_latin
from services.packaging.outline import outline_all, outline_alternates
from services.packaging.preview import preview_png
from services.packaging.trace import TracedGlyph, trace_glyph
from services.packaging.typeset import (
    cap_height,
    drawn_marks,
    font_notes,
    place_alternates,
    place_cut_jamo,
    place_written,
)
from services.packaging.variants import ALT_FILE, alt_glyph_name, calt_feature, scan_alternates
from services.packaging.woff2 import encode_woff2

GLYPH_FILE = re.compile(r"U\+([0-9A-F]{4,6})\.png")
MAX_IMAGE_SIDE = 1024  # writing boxes are ~200 px, generated glyphs 128 px
EXPECTED = tuple(range(0xAC00, 0xD7A4)) + tuple(range(0x21, 0x7F))
Progress = Callable[[float], None]


@dataclass(frozen=True)
class GlyphIssue:
    """A glyph image that was left out of the font, and why."""

    codepoint: int
    reason: str

    def __str__(self) -> str:
        return f"U+{self.codepoint:04X} {chr(self.codepoint)!r}: {self.reason}"


@dataclass(frozen=True)
class PackageReport:
    """What package_font wrote and what it had to leave out."""

    ttf: Path
    woff2: Path
    preview: Path
    hangul_count: int  # syllables in the font
    latin_count: int  # printable ASCII characters in the font (written ones; space is always there)
    broken: tuple[GlyphIssue, ...]  # images present but unusable
    missing: tuple[int, ...]  # expected code points with no image (the system font will stand in)
    ignored: tuple[str, ...]  # files in the directory that are not U+XXXX.png
    jamo_count: int = 0  # compatibility jamo cut from the syllables
    alternates: int = 0  # alternate glyphs that `calt` cycles through
    drawn: tuple[int, ...] = ()  # characters drawn as simple marks because the writer's were missing
    coverage: tuple[MissingChar, ...] = ()  # characters of the font's set it lacks or substitutes
    # Seconds per step (trace, normalize, tables, preview, total): wall clock, and CPU of this process
    # (tracing workers not included).
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def scan_glyph_dir(glyph_dir: Path) -> tuple[dict[int, Path], list[str]]:
    """Return ({code point: image path}, names of other files) for a glyph directory.

    Raises ValueError if the directory does not exist or holds no U+XXXX.png file.
    """
    if not glyph_dir.is_dir():
        raise ValueError(f"{glyph_dir} is not a directory of glyph images")
    images: dict[int, Path] = {}
    ignored: list[str] = []
    for path in sorted(glyph_dir.iterdir()):
        match = GLYPH_FILE.fullmatch(path.name)
        if match and path.is_file():
            images[int(match.group(1), 16)] = path
        elif not path.name.startswith(".") and not ALT_FILE.fullmatch(path.name):
            ignored.append(path.name)
    if not images:
        found = f"it holds {len(ignored)} other files, e.g. {ignored[0]}" if ignored else "it is empty"
        raise ValueError(f"{glyph_dir} contains no glyph images named like U+AC00.png ({found})")
    return images, ignored


def load_glyph_image(path: Path) -> np.ndarray:
    """Return a glyph PNG as a 2-D uint8 array (transparent areas become white paper).

    Raises ValueError if the file is not a readable PNG of a sensible size.
    """
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise ValueError(f"not a PNG image (it is {image.format or 'unknown'})")
            if max(image.size) > MAX_IMAGE_SIDE:
                raise ValueError(f"image is {image.size[0]}x{image.size[1]} px, larger than {MAX_IMAGE_SIDE}")
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                paper = Image.new("RGBA", image.size, "white")
                return np.asarray(Image.alpha_composite(paper, image.convert("RGBA")).convert("L"))
            return np.asarray(image.convert("L"), dtype=np.uint8)
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable PNG image ({exc})") from exc


def _trace_file(item: tuple[int, Path]) -> tuple[int, TracedGlyph | str]:
    """Trace one glyph file; return the traced glyph or the reason it failed (picklable for workers)."""
    codepoint, path = item
    try:
        return codepoint, trace_glyph(load_glyph_image(path))
    except ValueError as exc:
        return codepoint, str(exc)


def _trace_all(items: list[tuple[int, Path]], workers: int) -> Iterator[tuple[int, TracedGlyph | str]]:
    """Trace every glyph file, in order, on this process or on `workers` processes."""
    if workers <= 1:
        yield from map(_trace_file, items)
        return
    with get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(_trace_file, items, chunksize=64)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory, so no half-file is left."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private (0600); a font is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Stopwatch:
    """Wall and CPU seconds per named step, each step measured from the end of the previous one."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._start = self._wall = time.perf_counter()
        self._cpu0 = self._cpu = time.process_time()

    def lap(self, step: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[step], self.cpu[step] = wall - self._wall, cpu - self._cpu
        self._wall, self._cpu = wall, cpu

    def total(self) -> None:
        self.wall["total"] = time.perf_counter() - self._start
        self.cpu["total"] = time.process_time() - self._cpu0


def _trace_images(
    images: dict[int, Path], workers: int, report: Progress, broken: dict[int, str]
) -> tuple[dict[int, TracedGlyph], dict[int, TracedGlyph]]:
    """Trace every Hangul and Latin image; return (hangul, latin); record failures in `broken`."""
    hangul: dict[int, TracedGlyph] = {}
    latin: dict[int, TracedGlyph] = {}
    items = []
    for cp, path in images.items():
        if is_hangul(cp) or is_latin(cp):
            items.append((cp, path))
        elif is_jamo(cp):
            broken[cp] = "image not used: the font's standalone jamo are cut from its own syllables"
        else:
            broken[cp] = "not in the font's character set (Hangul syllables and printable ASCII)"
    step = max(len(items) // 100, 1)
    for i, (cp, traced) in enumerate(_trace_all(items, workers), 1):
        if isinstance(traced, str):
            broken[cp] = traced
        else:
            (hangul if is_hangul(cp) else latin)[cp] = traced
        if i % step == 0:
            report(0.85 * i / len(items))
    return hangul, latin


def package_font(
    glyph_dir: Path,
    out_ttf: Path,
    family_name: str,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    written: Collection[int] | None = None,
    hangul_box_scale: float | None = None,
    spacing: Spacing | None = None,
    variants: bool = True,
) -> PackageReport:
    """Build FONT.ttf, FONT.woff2 and FONT-preview.png from a directory of glyph images.

    `out_ttf` must end in .ttf; its directory is created if needed. `progress` is called with the
    fraction done (0..1). `workers` > 1 traces on that many processes. `written` lists the canonical
    Hangul images that were written by hand and `hangul_box_scale` is the writer's canonical pixels per
    writing-box pixel (`glyph_space.writer_scale`), which sizes Latin against Hangul as written; when
    neither is given they are read from the directory's `.hand.json` if the build saved one (else: the
    template's syllables, and Latin sized on its own). `spacing` is the writer's measured spacing in
    running text (else the directory's `.hand.json`, else the default). `variants` takes
    `U+XXXX.altK.png` images in as alternates cycled by `calt`. Raises ValueError for a bad name, a
    directory without glyph images, or when no Hangul syllable is usable; nothing is written then.
    """
    glyph_dir, out_ttf = Path(glyph_dir), Path(out_ttf)
    family = check_family_name(family_name)
    if out_ttf.suffix.lower() != ".ttf":
        raise ValueError(f"the output must be a .ttf file, got {out_ttf.name}")
    report = progress or (lambda fraction: None)
    clock = _Stopwatch()
    images, ignored = scan_glyph_dir(glyph_dir)
    if written is None and hangul_box_scale is None:
        written, hangul_box_scale = load_hand(glyph_dir)  # saved by the build flow, if it was
    if spacing is None and (saved := load_spacing(glyph_dir)) is not None:
        spacing = Spacing(saved["gap"], saved["space"])
    broken: dict[int, str] = {}
    hangul, latin = _trace_images(images, workers, report, broken)
    clock.lap("trace")
    traced = {**hangul, **latin}
    placements, problems = place_written(traced, written, hangul_box_scale, spacing)
    broken.update(problems)
    jamo_traced, jamo_placed, jamo_sources = place_cut_jamo(images, load_glyph_image)
    marks = drawn_marks(traced, placements)
    traced.update(jamo_traced)
    placements.update(jamo_placed)
    for cp, (mark, placement) in marks.items():
        traced[cp], placements[cp] = mark, placement
    glyphs = outline_all(traced, placements, broken)
    if not any(is_hangul(cp) for cp in glyphs):
        issues = [f"U+{cp:04X}: {why}" for cp, why in sorted(broken.items()) if is_hangul(cp)]
        detail = f" ({'; '.join(issues[:3])})" if issues else ""
        raise ValueError(f"no usable Hangul syllable in {glyph_dir}{detail}")
    drawn = tuple(sorted(cp for cp in marks if cp in glyphs))
    if spacing is not None:  # the writer's own space (else build_font adds the default one)
        for blank in (0x20, 0xA0):
            glyphs[blank] = (TTGlyphPen(None).glyph(), spacing.space_advance)
    found = scan_alternates(glyph_dir) if variants else {}
    extra = outline_alternates(place_alternates(found, traced, placements, jamo_sources, load_glyph_image))
    clock.lap("normalize")  # placement and outline conversion
    report(0.92)
    counts: dict[int, int] = {}
    for cp, k in extra:
        counts[cp] = max(counts.get(cp, 0), k)
    gap = 2 * SIDE_BEARING * cap_height(traced, placements)
    features = kern_feature(glyphs, gap=gap, also=[alt_glyph_name(cp, k) for cp, k in extra if is_hangul(cp)])
    features += calt_feature(counts)
    ttf = build_font(
        glyphs,
        family,
        notes=font_notes(drawn),
        features=features,
        unmapped={alt_glyph_name(cp, k): outline for (cp, k), outline in extra.items()},
    )
    woff2 = encode_woff2(ttf)
    clock.lap("tables")
    report(0.97)
    preview = preview_png(ttf, caption=family)
    clock.lap("preview")

    out_ttf.parent.mkdir(parents=True, exist_ok=True)
    woff2_path = out_ttf.with_suffix(".woff2")
    preview_path = out_ttf.with_name(f"{out_ttf.stem}-preview.png")
    for path, data in ((out_ttf, ttf), (woff2_path, woff2), (preview_path, preview)):
        write_atomic(path, data)
    clock.total()
    report(1.0)
    return PackageReport(
        ttf=out_ttf,
        woff2=woff2_path,
        preview=preview_path,
        hangul_count=sum(1 for cp in glyphs if is_hangul(cp)),
        latin_count=sum(1 for cp in glyphs if is_latin(cp) and cp not in drawn),
        broken=tuple(GlyphIssue(cp, why) for cp, why in sorted(broken.items())),
        missing=tuple(cp for cp in EXPECTED if cp not in images),
        ignored=tuple(ignored),
        jamo_count=sum(1 for cp in glyphs if is_jamo(cp)),
        alternates=len(extra),
        drawn=drawn,
        coverage=tuple(coverage_report(cp for cp in glyphs if cp not in drawn)),
        seconds=clock.wall,
        cpu_seconds=clock.cpu,
    )
