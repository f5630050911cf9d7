"""Benchmarks a re-package: marked syllables redrawn and the font packaged again, with no fine-tune.

This is the work a "repackage" job does after the writer marks syllables on the web page: fetch the
finished build's kept files from the artifact store (the writer's generator and the 11,266 glyph images
as one zip), redraw the marked syllables, trace + normalize + package all glyphs, and store the new font
with its kept files. The glyph set is the one bench.package renders (Nanum Pen Script, cached outside the
repository); the committed pretrained weights stand in for the writer's fine-tuned generator (same size
and architecture). Results go to docs/BENCHMARKS.md under "## repackage".

    python -m bench.repackage                     # 20 marked syllables, tracing on 2 processes
    python -m bench.repackage --marked 100 --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import models
from bench.package import CACHE, glyph_set
from services.pipeline.flow import BuildOptions, repackage_font
from services.pipeline.kept import keep_build, restore_build
from services.storage import LocalArtifactStore, result_key
from tests.fixtures.package.make_fixtures import FONT

# Syllables people often find odd in a generated font: complex finals and rare vowels.
MARKABLE = "뷁똠쀍헬갉얽쓿뢔퓌쳬뙇괞뒝뱍흷믊쌻꿹짢뽀샦펩톏줅윘걟냚댧릻멻븣"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_run(
    store: LocalArtifactStore, base: str, marked: list[int], workers: int, attempt: int
) -> dict[str, float]:
    """One re-package from the kept files under `base`; wall seconds per step and CPU seconds in all."""
    timings: dict[str, float] = {}
    cpu0 = cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-repackage-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        glyph_dir, checkpoint = restore_build(store, base, work / "base")
        timings["restore"] = time.perf_counter() - t
        t = time.perf_counter()
        files = repackage_font(
            glyph_dir,
            checkpoint,
            work,
            "Bench Repackage",
            marked,
            attempt=attempt,
            options=BuildOptions(workers=workers),
        )
        timings["redraw+package"] = time.perf_counter() - t
        timings.update({f"  {k}": v for k, v in files.seconds.items()})
        t = time.perf_counter()
        prefix = f"fonts/bench/builds/fix{attempt}/1"
        for kind in ("ttf", "woff2", "preview"):
            store.put(result_key(prefix, kind), Path(getattr(files, kind)).read_bytes())
        keep_build(store, prefix, files.checkpoint, files.glyph_dir)
        timings["store"] = time.perf_counter() - t
    timings["total"] = timings["restore"] + timings["redraw+package"] + timings["store"]
    timings["cpu"] = cpu_seconds() - cpu0
    return {k: round(v, 2) for k, v in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--marked", type=int, default=20, help="syllables marked as wrong (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="tracing processes (default 2)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    glyphs = glyph_set(FONT, CACHE)
    chosen = sorted({ord(c) for c in MARKABLE})
    marked = (chosen + [cp for cp in range(0xB000, 0xB000 + args.marked) if cp not in chosen])[: args.marked]
    with tempfile.TemporaryDirectory(prefix="bench-repackage-store-") as tmp:
        store = LocalArtifactStore(Path(tmp))
        base = "fonts/bench/builds/base/1"
        assert keep_build(store, base, models.weights_path(), glyphs)
        runs = [one_run(store, base, marked, args.workers, attempt) for attempt in range(args.runs)]
    for run in runs:
        print("  ".join(f"{k.strip()} {v:.1f}s" for k, v in run.items()))
    print(
        json.dumps(
            {
                "marked": len(marked),
                "workers": args.workers,
                "runs": runs,
                "cpus": os.cpu_count(),
                "machine": platform.processor() or platform.machine(),
                "loadavg": [round(x, 1) for x in os.getloadavg()],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
