"""Load benchmark: many clients create fonts, upload simulated page photos and poll status on the real API.

    python3 -m bench.load [--clients 50] [--pages 2] [--polls 5] [--max-seconds 600]

Starts everything on loopback and stops it afterwards: a MariaDB database made for the run (dropped at the
end; server from GEULSSI_TEST_MYSQL_URL, default root@127.0.0.1:3306), a Tansu broker, and the API under
uvicorn in a child process with its outbox relay. No worker: builds are not part of this load. Each client
creates a font, uploads pages 1..N one request each (extraction runs inside the request), polls status
after each upload, and submits when every Hangul cell is usable (the job then travels through the outbox
to the broker). Afterwards every upload answered 2xx must be visible in its font's status and in the
database ("lost" otherwise), and every outbox message must have reached the broker.

Prints a readable summary and one JSON line: requests, 5xx, transport errors, lost uploads, throughput, and
p50/p95/p99 latency per endpoint. Figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from services.db import migrate
from services.db.session import Database
from services.queue.broker import free_port, start_broker

MYSQL_SERVER = os.environ.get("GEULSSI_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
REPO = Path(__file__).resolve().parent.parent
# Uploads queue behind extraction (two at a time, ~0.5 s of CPU each): 100 at once take minutes on 2 cores.
REQUEST_TIMEOUT_S = 300.0


class StackUnavailable(RuntimeError):
    """MariaDB, the broker or the API could not be started; the message says which."""


@contextlib.contextmanager
def database(server: str = MYSQL_SERVER) -> Iterator[str]:
    """A migrated, empty utf8mb4 database for the run; dropped afterwards. Yields its URL."""
    name = f"geulssi_load_{secrets.token_hex(4)}"
    engine = create_engine(server, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    except Exception as exc:
        raise StackUnavailable(f"MariaDB/MySQL is not reachable at {server}: {exc}") from None
    url = f"{server}/{name}?charset=utf8mb4"
    try:
        db = Database(url)
        migrate.upgrade(db.engine)
        db.dispose()
        yield url
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()


@contextlib.contextmanager
def api_server(env: dict[str, str], port: int, ready_s: float = 60.0) -> Iterator[str]:
    """The API under uvicorn in a child process on 127.0.0.1:`port`; yields its base URL."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if process.poll() is not None:
                raise StackUnavailable(f"the API exited at start (code {process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise StackUnavailable(f"the API did not answer /api/health within {ready_s:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Record:
    """Everything the clients measured; lists are appended from many threads (atomic in CPython)."""

    latencies: list[tuple[str, int, float]] = field(default_factory=list)  # (endpoint, status, seconds)
    transport_errors: list[str] = field(default_factory=list)
    uploads: list[tuple[str, str, int, str]] = field(default_factory=list)  # (font, token, page, name) 2xx
    refused_uploads: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # requests not sent because the time ran out


def client_run(
    index: int,
    base: str,
    photos: dict[int, list[bytes]],
    pages: int,
    polls: int,
    deadline: float,
    out: Record,
) -> None:
    """One person: create a font, upload pages 1..`pages`, poll after each, submit when ready."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:

        def call(endpoint: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
            if time.monotonic() > deadline:
                out.skipped.append(endpoint)
                return None
            start = time.perf_counter()
            try:
                response = http.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                out.transport_errors.append(f"{endpoint}: {exc.__class__.__name__}: {exc}")
                return None
            out.latencies.append((endpoint, response.status_code, time.perf_counter() - start))
            return response

        created = call("POST /api/fonts", "POST", "/api/fonts", json={"name": f"부하 {index}"})
        if created is None or created.status_code != 201:
            return
        font_id, token = created.json()["id"], created.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        status: httpx.Response | None = None
        for page in range(1, pages + 1):
            name = f"client{index}-page{page}.jpg"
            photo = photos[page][index % len(photos[page])]
            files = [("photos", (name, photo, "image/jpeg"))]
            uploaded = call("POST pages", "POST", f"/api/fonts/{font_id}/pages", headers=auth, files=files)
            if uploaded is not None and uploaded.is_success:
                out.uploads.append((font_id, token, page, name))
            elif uploaded is not None:
                out.refused_uploads.append(f"{name}: {uploaded.status_code} {uploaded.text[:200]}")
            for _ in range(polls):
                status = call("GET status", "GET", f"/api/fonts/{font_id}", headers=auth) or status
        if status is not None and status.is_success and status.json()["ready_to_submit"]:
            submitted = call("POST submit", "POST", f"/api/fonts/{font_id}/submit", headers=auth)
            if submitted is not None and submitted.status_code == 202:
                out.submitted.append(font_id)


def lost_uploads(base: str, url: str, out: Record) -> list[str]:
    """Uploads answered 2xx that are missing from their font's status or from the pages table."""
    lost = []
    engine = create_engine(url)
    with httpx.Client(base_url=base, timeout=60.0) as http, engine.connect() as connection:
        for font_id, token, page, name in out.uploads:
            status = http.get(f"/api/fonts/{font_id}", headers={"Authorization": f"Bearer {token}"}).json()
            listed = {(p["page"], p["photo"]) for p in status["pages"]}
            row = connection.execute(
                text("SELECT photo_name FROM pages WHERE font_id = :f AND page = :p"),
                {"f": font_id, "p": page},
            ).scalar()
            if (page, name) not in listed or row != name:
                lost.append(f"{font_id} page {page} ({name})")
    engine.dispose()
    return lost


def unpublished(url: str, wait_s: float = 30.0) -> int:
    """Outbox messages not yet sent to the broker, after waiting up to `wait_s` for the relay."""
    engine = create_engine(url)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            with engine.connect() as connection:
                left = int(
                    connection.execute(
                        text("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                    ).scalar_one()
                )
            if left == 0 or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
    finally:
        engine.dispose()


def percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "n": len(values),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(float(values.max()), 1),
    }


def make_photos(pages: int, variants: int) -> dict[int, list[bytes]]:
    """`variants` simulated phone photos of each page 1..`pages`, made once and reused by every client."""
    from tests.simulator import simulate_photo

    return {
        page: [simulate_photo(page, seed=500 + 10 * page + v)[0] for v in range(variants)]
        for page in range(1, pages + 1)
    }


def run(
    clients: int = 50, pages: int = 2, polls: int = 5, max_seconds: float = 600.0, variants: int = 2
) -> dict[str, Any]:
    """Start the stack, run the clients, check for lost uploads, stop everything; return the figures."""
    photos = make_photos(pages, variants)
    out = Record()
    with (
        tempfile.TemporaryDirectory(prefix="geulssi-load-") as tmp,
        database() as url,
        start_broker() as broker,
    ):
        tag = secrets.token_hex(3)
        env = {
            "GEULSSI_DATABASE_URL": url,
            "GEULSSI_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "GEULSSI_STORAGE_DIR": str(Path(tmp) / "artifacts"),
            "GEULSSI_JOBS_TOPIC": f"load-jobs-{tag}",
            "GEULSSI_DEAD_LETTER_TOPIC": f"load-dead-{tag}",
            "GEULSSI_RELAY_INTERVAL_SECONDS": "0.2",
        }
        with api_server(env, free_port()) as base:
            deadline = time.monotonic() + max_seconds
            threads = [
                threading.Thread(
                    target=client_run, args=(i, base, photos, pages, polls, deadline, out), daemon=True
                )
                for i in range(clients)
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(
                    max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT_S + 10)
                )  # one may be in flight
            wall = time.perf_counter() - start
            lost = lost_uploads(base, url, out)
            left = unpublished(url)
    endpoints = sorted({e for e, _, _ in out.latencies})
    return {
        "clients": clients,
        "pages_per_client": pages,
        "polls_per_page": polls,
        "requests": len(out.latencies),
        "server_errors": sum(s >= 500 for _, s, _ in out.latencies),
        "transport_errors": len(out.transport_errors),
        "uploads_ok": len(out.uploads),
        "uploads_refused": len(out.refused_uploads),
        "lost_uploads": len(lost),
        "submitted": len(out.submitted),
        "unpublished_messages": left,
        "skipped_for_time": len(out.skipped),
        "wall_s": round(wall, 1),
        "requests_per_s": round(len(out.latencies) / wall, 2),
        "uploads_per_s": round(len(out.uploads) / wall, 3),
        "latency": {e: percentiles([t for name, _, t in out.latencies if name == e]) for e in endpoints},
        "examples": {
            "transport_errors": out.transport_errors[:3],
            "refused": out.refused_uploads[:3],
            "lost": lost[:3],
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pages", type=int, default=2, choices=(1, 2, 3), help="pages each client uploads")
    parser.add_argument("--polls", type=int, default=5, help="status polls after each upload")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="no new request after this long")
    args = parser.parse_args(argv)
    try:
        result = run(args.clients, args.pages, args.polls, args.max_seconds)
    except StackUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{result['requests']} requests from {result['clients']} clients in {result['wall_s']} s: "
        f"{result['requests_per_s']} req/s, {result['uploads_per_s']} uploads/s; "
        f"5xx {result['server_errors']}, transport errors {result['transport_errors']}, "
        f"lost uploads {result['lost_uploads']}"
    )
    for endpoint, figures in result["latency"].items():
        print(
            f"  {endpoint:18} n={figures['n']:4}  p50 {figures['p50_ms']:8.1f} ms  "
            f"p95 {figures['p95_ms']:8.1f} ms  p99 {figures['p99_ms']:8.1f} ms"
        )
    print(json.dumps(result, ensure_ascii=False))
    bad = (
        result["server_errors"]
        or result["transport_errors"]
        or result["lost_uploads"]
        or result["unpublished_messages"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
