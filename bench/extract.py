"""Benchmark: extraction accuracy and speed on simulated 12-MP phone photos of the filled-in template.

    python3 -m bench.extract [--photos 24] [--size 4000x3000] [--seed 1000] [--cache DIR] [--only 2,5]
                             [--kind flat|bent|cut|small|glare|all]

Each photo is a different sheet (page, handwriting font, pen) under different conditions (rotation incl.
upside down, perspective up to 35 degrees, shadow, a covered marker, EXIF rotation, JPEG quality), with 3 % of
cells each left empty, written across the edge and written faintly. `--kind` adds one
capture problem to every photo: `bent` (the sheet sags 1-2.5 mm, seen in perspective), `cut` (one edge of the
page out of the frame: a row of markers, or a side), `small` (the page fills 30-50 % of the frame), `glare` (a
bright reflection); `all` runs each kind in turn and reports them separately. Measured:
- accuracy: share of cells written inside their box (and inside the photo) that come out "ok" in the file of
  the right character with ink IoU >= 0.9 against what was pasted (ink = darker than mid-grey in both images),
  after the best shift of the whole glyph by up to 2 px ("read right"; also given without the shift);
- wrongly blamed: cells written fine and inside the photo that were reported empty, faint, crossing the box
  edge or smudged (the writer told to rewrite them); a photo refused with a page-level instruction ("move
  closer") blames no cell and is counted separately;
- status: share of all cells given the status the simulator intended (ok / empty / overflow / faint);
- speed: CPU seconds of `extract_photo` per photo with OpenCV on one thread (no torch involved).
Prints a readable summary and one JSON line.

Simulating a 12-MP photo takes several times longer than reading it: `--cache DIR` keeps each simulated photo
(keyed by the arguments that decide it; clear it when the simulator changes) so later runs only extract;
`--only` extracts just the listed photo indices (the same photos as in a full run: conditions are still
drawn for every index in order).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from services.extraction.extract import PhotoError, extract_photo
from services.extraction.ink import RING_OUTER_PX
from templates.layout import build_layout
from tests.simulator import SimulatedPhoto, simulate

IOU_TARGET = 0.9
SHIFT_PX = 2  # the whole glyph may be this far off and still count as read right
KINDS = ("flat", "bent", "cut", "small", "glare")
WRITER_BLAME = frozenset({"empty", "faint", "overflow", "smudged"})


def with_kind(kind: str, options: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """The photo's options with the capture problem of `kind` added (drawn from a generator of its own)."""
    options = dict(options)
    if kind == "bent":
        options["bend"] = float(rng.uniform(1.0, 2.5))
    elif kind == "cut":  # one edge out of the frame: the top or bottom row of markers, or a side
        options.pop("hide_marker", None)
        side = int(rng.integers(0, 4))
        options["rotation"] = float((0.0, 180.0)[side % 2] + rng.uniform(-4, 4))
        options["tilt"] = float(rng.uniform(0, 20))
        options["fill"] = 0.95
        step = float(rng.uniform(0.14, 0.2))
        options["shift"] = (0.0, step if side < 2 else -step) if side in (0, 3) else (
            (step if side == 1 else -step) * 1.5, 0.0)
    elif kind == "small":
        options["fill"] = float(rng.uniform(0.3, 0.5))
    elif kind == "glare":
        options["glare"] = float(rng.uniform(0.6, 1.0))
    return options


def shifted_iou(image: np.ndarray, truth: np.ndarray, reach: int = SHIFT_PX) -> float:
    """Ink IoU after the best shift of the whole glyph by up to `reach` pixels."""
    a, b = image < 128, truth < 128
    best = 0.0
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            moved = np.roll(a, (dy, dx), (0, 1))
            union = int((moved | b).sum())
            best = max(best, float((moved & b).sum()) / union if union else 1.0)
    return best


def conditions(index: int, rng: np.random.Generator) -> dict[str, Any]:
    """Simulator options for photo `index`: pages, pens and hard cases cycle so every mix appears."""
    options: dict[str, Any] = {
        "pen": ("black", "blue", "pencil")[index % 3],
        "rotation": float((0, 90, 180, 270)[index % 4] + rng.uniform(-15, 15)),
        "tilt": float(rng.uniform(0, 35)),
        "quality": int(rng.integers(70, 96)),
        "empty": 0.03, "overflow": 0.03, "faint": 0.03,
    }
    if index % 5 == 1:
        options["hide_marker"] = int(rng.integers(0, 6))
    if index % 4 == 2:
        options["shadow"] = float(rng.uniform(0.3, 0.6))
    if index % 6 == 3:
        options["exif_orientation"] = int(rng.choice([3, 6, 8]))
    return options


def ink_iou(image: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of the ink (pixels darker than 128) of two same-size images."""
    a, b = image < 128, truth < 128
    union = int((a | b).sum())
    return float((a & b).sum()) / union if union else 1.0


def simulated(page: int, seed: int, size: tuple[int, int], options: dict[str, Any],
              cache: Path | None) -> SimulatedPhoto:
    """The simulated photo, from `cache` when it holds one made with the same arguments."""
    if cache is None:
        return simulate(page, seed, size=size, **options)
    key = json.dumps([page, seed, size, sorted(options.items())])
    path = cache / f"{seed}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pkl"
    if path.is_file():
        with open(path, "rb") as f:
            shot: SimulatedPhoto = pickle.load(f)  # our own cache, written below
        return shot
    shot = simulate(page, seed, size=size, **options)
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with open(partial, "wb") as f:
        pickle.dump(shot, f)
    partial.replace(path)
    return shot


def in_frame(shot: SimulatedPhoto, size: tuple[int, int]) -> dict[int, bool]:
    """Whether each cell's box (with the ring where crossing ink is followed) lies inside the photo, by the
    simulator's own homography (no kind that cuts an edge also bends the sheet)."""
    page = build_layout().page(shot.page)
    width, height = size
    if shot.camera.exif_orientation in (6, 8):
        width, height = height, width
    m = RING_OUTER_PX
    inside = {}
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        corners = np.array([[[x0 - m, y0 - m]], [[x1 + m, y0 - m]], [[x1 + m, y1 + m]], [[x0 - m, y1 + m]]],
                           np.float64)
        points = cv2.perspectiveTransform(corners, shot.homography).reshape(-1, 2)
        inside[cell.codepoint] = bool(np.all((points >= 0) & (points <= [width - 1, height - 1])))
    return inside


def run(photos: int, size: tuple[int, int], seed: int, cache: Path | None = None,
        only: set[int] | None = None, kind: str = "flat") -> dict[str, Any]:
    """Simulate (or load from `cache`) and extract `photos` photos of one `kind`, or only those in `only`;
    return the figures."""
    cv2.setNumThreads(1)
    rng = np.random.default_rng(seed)
    kind_rng = np.random.default_rng([seed, KINDS.index(kind)])
    good = plain_good = written = right_status = cells = blamed = out_of_frame = 0
    ious: list[float] = []
    seconds: list[float] = []
    wall: list[float] = []
    refused: list[str] = []
    confusion: Counter[tuple[str, str]] = Counter()
    by_pen: dict[str, list[int]] = {}
    by_page: dict[int, list[int]] = {}
    missed: list[str] = []  # photo:char:status:iou of every written cell that is not right
    extract_photo(simulate(1, seed - 1, size=(1600, 1200)).jpeg, "warm-up")  # caches (page renders) once
    for index in range(photos):
        options = with_kind(kind, conditions(index, rng), kind_rng)
        if only is not None and index not in only:
            continue
        shot = simulated(1 + index % 3, seed + index, size, options, cache)
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        try:
            extraction = extract_photo(shot.jpeg, f"photo-{index}.jpg")
        except PhotoError as exc:
            seconds.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start_wall)
            refused.append(f"{index}: {exc}")
            print(f"photo {index:2d}: page {shot.page} refused: {exc}", flush=True)
            continue
        seconds.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
        inside = in_frame(shot, size)
        tally = by_pen.setdefault(options["pen"], [0, 0])
        page_tally = by_page.setdefault(shot.page, [0, 0])
        misses = 0
        for cell in extraction.cells:
            expected = shot.expected[cell.codepoint]
            if not inside[cell.codepoint]:
                out_of_frame += 1
                continue
            confusion[(expected, cell.status)] += 1
            cells += 1
            right_status += expected == cell.status
            if expected != "ok":
                continue
            written += 1
            tally[1] += 1
            page_tally[1] += 1
            blamed += cell.status in WRITER_BLAME
            truth = shot.truth[cell.codepoint]
            iou = shifted_iou(cell.image, truth) if cell.image is not None else 0.0
            ious.append(iou)
            ok = cell.status == "ok"
            plain_good += ok and cell.image is not None and ink_iou(cell.image, truth) >= IOU_TARGET
            if ok and iou >= IOU_TARGET:
                good += 1
                tally[0] += 1
                page_tally[0] += 1
            else:
                misses += 1
                missed.append(f"{index}:{cell.char}:{cell.status}:{iou:.3f}")
        print(f"photo {index:2d}: page {shot.page} {shot.font.name:24s} {options['pen']:6s} "
              f"rot {options['rotation']:6.1f} tilt {options['tilt']:4.1f} "
              f"{'hidden ' + str(options['hide_marker']) if 'hide_marker' in options else '':9s} "
              f"sharp {extraction.report['sharpness']:5.1f} "
              f"fix {extraction.report['registration_correction_px']:5.1f} px  {seconds[-1]:.2f} s cpu  "
              f"misses {misses}", flush=True)
    return {
        "kind": kind,
        "photos": len(seconds),
        "refused_with_page_advice": refused,
        "size": f"{size[0]}x{size[1]}",
        "cells_written_inside_in_frame": written,
        "cells_out_of_frame": out_of_frame,
        "read_right_shift_2px": round(good / max(written, 1), 5),
        "read_right_no_shift": round(plain_good / max(written, 1), 5),
        "wrongly_blamed": round(blamed / max(written, 1), 5),
        "wrongly_blamed_cells": blamed,
        "iou_median": round(float(np.median(ious)), 4) if ious else None,
        "iou_p1": round(float(np.percentile(ious, 1)), 4) if ious else None,
        "status_accuracy": round(right_status / max(cells, 1), 5),
        "status_errors": {f"{e}->{s}": n for (e, s), n in sorted(confusion.items()) if e != s},
        "by_pen": {pen: round(g / n, 5) for pen, (g, n) in by_pen.items()},
        "by_page": {page: f"{g}/{n}" for page, (g, n) in sorted(by_page.items())},
        "misses": missed[:40],
        "cpu_s_per_photo_mean": round(float(np.mean(seconds)), 3),
        "cpu_s_per_photo_max": round(float(np.max(seconds)), 3),
        "wall_s_per_photo_mean": round(float(np.mean(wall)), 3),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--size", default="4000x3000", help="photo size WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--cache", type=Path, help="directory keeping the simulated photos between runs")
    parser.add_argument("--only", help="comma-separated photo indices to extract (default: all)")
    parser.add_argument("--kind", default="flat", choices=(*KINDS, "all"), help="capture problem to add")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    only = {int(v) for v in args.only.split(",")} if args.only else None
    for kind in KINDS if args.kind == "all" else (args.kind,):
        result = run(args.photos, (width, height), args.seed, args.cache, only, kind)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
