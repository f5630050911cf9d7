"""Benchmarks the artifact stores: the local folder against S3 (moto's standalone server over HTTP).

Times, per store, PUT and GET of COUNT photo-sized artifacts (200 kB, what a phone JPEG from the simulator
weighs) and of a few font-sized ones (FONT_MB), and a streamed read of the font in 1 MiB chunks. moto runs
in a thread of this process, so it shares the CPU and the GIL with the client: its figures are a floor for
what a real MinIO would do, not a ceiling. Prints one JSON line; results go to docs/ARCHITECTURE.md
("At scale").

    python -m bench.storage                      # 50 photos, 5 fonts of 8 MB
    python -m bench.storage --count 20 --font-mb 4
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import secrets
import tempfile
import time
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from services.queue.broker import free_port
from services.storage import ArtifactStore, LocalArtifactStore
from services.storage.s3 import S3ArtifactStore


def _timed(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def measure(store: ArtifactStore, count: int, font_mb: int) -> dict[str, float]:
    photo, font = os.urandom(200_000), os.urandom(font_mb * 1024 * 1024)
    keys = [f"fonts/bench/pages/{i}.jpg" for i in range(count)]
    put = sum(_timed(store.put, k, photo) for k in keys)
    get = sum(_timed(store.get, k) for k in keys)
    fonts = [f"fonts/bench/builds/{i}/font.ttf" for i in range(5)]
    font_put = sum(_timed(store.put, k, font) for k in fonts)
    started = time.perf_counter()
    for k in fonts:
        for _ in store.stream(k).chunks:
            pass
    font_stream = time.perf_counter() - started
    store.delete_prefix("fonts/bench")
    return {
        "photo_put_ms": round(1000 * put / count, 1),
        "photo_get_ms": round(1000 * get / count, 1),
        "font_put_MB_s": round(5 * font_mb / font_put, 1),
        "font_stream_MB_s": round(5 * font_mb / font_stream, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--font-mb", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint, bucket = f"http://127.0.0.1:{port}", f"bench-{secrets.token_hex(4)}"
        keys = {
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench-secret",
            "region_name": "us-east-1",
        }
        boto3.client("s3", endpoint_url=endpoint, **keys).create_bucket(Bucket=bucket)
        s3 = S3ArtifactStore(
            bucket, "bench", endpoint_url=endpoint, access_key_id="bench", secret_access_key="bench-secret"
        )
        with tempfile.TemporaryDirectory(prefix="geulssi-bench-") as tmp:
            local = measure(LocalArtifactStore(Path(tmp)), args.count, args.font_mb)
        result = {
            "count": args.count,
            "font_mb": args.font_mb,
            "local": local,
            "s3_moto": measure(s3, args.count, args.font_mb),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        }
    finally:
        server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
