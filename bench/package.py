"""Benchmarks the package stage on a full glyph set: 11,172 canonical syllables + 94 Latin writing boxes.

The glyphs are rendered once from a real font (Nanum Pen Script by default) into a cache outside the
repository, then `package_font` runs on them. Reported: wall and CPU time per step, peak memory
(ru_maxrss), TTF / WOFF2 size next to the source font's size, point counts. Results go to
docs/BENCHMARKS.md under "## package".

    python -m bench.package                       # one core, as the target is stated
    python -m bench.package --workers 2           # tracing on two processes
    python -m bench.package --iou 25              # also: round-trip ink IoU of every 25th glyph
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from fontTools.ttLib import TTFont

from services.packaging.normalize import is_hangul, place_hangul, place_latin
from services.packaging.package import load_glyph_image, package_font
from services.packaging.trace import trace_glyph
from tests.fixtures.package.make_fixtures import FONT, hangul_images, latin_images, write
from tests.fixtures.package.raster import glyph_mask, image_mask, iou

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geulssi" / "bench-package"
LATIN = "".join(chr(cp) for cp in range(0x21, 0x7F))


def glyph_set(font: Path, cache: Path) -> Path:
    """Return a directory with the rendered glyph set for `font`, rendering it on first use.

    Run the benchmark again after a first run that rendered: rendering raises the peak memory figure.
    """
    out = cache / f"{font.stem}-128"
    done = out / ".complete"
    if done.exists():
        return out
    started = time.perf_counter()
    print(f"rendering 11,172 syllables of {font.name} into {out} (once) ...", file=sys.stderr)
    syllables = "".join(chr(cp) for cp in range(0xAC00, 0xD7A4))
    write(hangul_images(syllables, font), out)
    write(latin_images(LATIN, font), out)
    done.touch()
    print(f"rendered in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


def round_trip_iou(glyphs: Path, font: TTFont, every: int) -> list[float]:
    """Ink IoU between every `every`-th input image and its glyph drawn back from the font.

    Placements are recomputed the way package_font computes them (all glyphs traced again: the Hangul
    median needs the whole set), then the outline is filled in the image's own frame at 4x.
    """
    images = {int(p.stem[2:], 16): p for p in sorted(glyphs.glob("U+*.png"))}
    traced = {cp: trace_glyph(load_glyph_image(path)) for cp, path in images.items()}
    placements = place_hangul({cp: g for cp, g in traced.items() if is_hangul(cp)})[0]
    placements.update(place_latin({cp: g for cp, g in traced.items() if not is_hangul(cp)})[0])
    glyf, cmap = font["glyf"], font.getBestCmap()
    scores = []
    for cp in sorted(placements)[::every]:
        image = load_glyph_image(images[cp])
        drawn = glyph_mask(glyf[cmap[cp]], glyf, placements[cp], image.shape[1], image.shape[0])
        scores.append(iou(drawn, image_mask(image)))
    return scores


def main() -> None:
    """Run the benchmark once and print its figures as Markdown lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, default=FONT)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--iou", type=int, default=0, metavar="N", help="round-trip IoU of every N-th glyph")
    args = parser.parse_args()
    glyphs = glyph_set(args.font, args.cache)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.ttf"
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = package_font(glyphs, out, "Geulssi Bench", workers=args.workers)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ttf_size, woff2_size = report.ttf.stat().st_size, report.woff2.stat().st_size
        font = TTFont(out)
        glyf = font["glyf"]
        points = [len(glyf[name].getCoordinates(glyf)[0]) for name in font.getGlyphOrder()]
        kerning = "GPOS kern" if "GPOS" in font else "none"
        preview_copy = args.cache / "bench-preview.png"
        preview_copy.write_bytes(report.preview.read_bytes())
        scores = round_trip_iou(glyphs, font, args.iou) if args.iou > 0 else []

    source = args.font.stat().st_size
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.cpu_seconds.items())
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"- input: {report.hangul_count} syllables + {report.latin_count} Latin from {args.font.name}")
    print(f"- workers: {args.workers}; wall {wall:.1f} s, CPU (this process) {cpu:.1f} s")
    print(f"- CPU per step: {steps}")
    workers = f" (worker processes: {children_mb:.0f} MB)" if args.workers > 1 else ""
    print(f"- peak RSS: {peak_mb:.0f} MB{workers}")
    print(f"- TTF {ttf_size / 1e6:.2f} MB, WOFF2 {woff2_size / 1e6:.2f} MB")
    print(f"- {args.font.name} (the source font): {source / 1e6:.2f} MB")
    print(f"- points per glyph: mean {sum(points) / len(points):.0f}, max {max(points)}")
    print(f"- broken: {len(report.broken)}, missing: {len(report.missing)}; preview copied to {preview_copy}")
    print(f"- jamo: {report.jamo_count}, drawn marks: {len(report.drawn)}, kerning: {kerning}")
    if scores:
        ordered = sorted(scores)
        print(
            f"- round-trip ink IoU of {len(scores)} glyphs: mean {sum(scores) / len(scores):.4f}, "
            f"5th percentile {ordered[len(ordered) // 20]:.4f}, min {ordered[0]:.4f}"
        )


if __name__ == "__main__":
    main()
