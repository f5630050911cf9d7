"""Benchmarks the operator summary (what /api/ops/summary and /metrics read) on a large jobs table in MariaDB.

Fills a fresh, uniquely named database with JOBS jobs spread over 30 days (90 % succeeded with stage timings,
5 % failed, 2 % cancelled, 2 % queued, 1 % running), 20 workers and an outbox, then times
`ops_summary.collect` and the Prometheus rendering. Kafka is left out (it has its own 3 s deadline).
Prints one JSON line; results go to docs/BENCHMARKS.md under "## operator summary". The database is dropped.

    python -m bench.ops_summary                   # 100,000 jobs
    python -m bench.ops_summary --jobs 10000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import time
from datetime import timedelta

from sqlalchemy import create_engine, insert, text

from services.api import prometheus
from services.db import migrate, ops_summary
from services.db.session import Database, utcnow
from services.db.tables import Font, Job, OutboxMessage, Worker
from services.queue.kafka_stats import KafkaStats

SERVER = os.environ.get("GEULSSI_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
STATES = ["succeeded"] * 90 + ["failed"] * 5 + ["cancelled"] * 2 + ["queued"] * 2 + ["running"]


def fill(db: Database, jobs: int, rng: random.Random) -> None:
    now = utcnow()
    fonts, rows = [], []
    for i in range(jobs):
        state = rng.choice(STATES)
        created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        finished = (
            created + timedelta(seconds=rng.uniform(300, 3000))
            if state not in ("queued", "running")
            else None
        )
        active = f"f{i}" if state in ("queued", "running") else None
        timings = (
            {
                "finetune": rng.uniform(200, 900),
                "generate": rng.uniform(60, 120),
                "trace": rng.uniform(15, 30),
                "normalize": rng.uniform(5, 15),
                "package": rng.uniform(3, 8),
            }
            if state == "succeeded"
            else {}
        )
        fonts.append({"id": f"f{i}", "name": "bench", "token_hash": "0" * 64, "created_at": created})
        rows.append(
            {
                "id": f"j{i}",
                "font_id": f"f{i}",
                "active_font_id": active,
                "state": state,
                "stage": "trace" if state == "failed" else None,
                "progress": 0.0,
                "attempts": 1,
                "lease_owner": "w0" if state == "running" else None,
                "lease_expires_at": None,
                "not_before": created,
                "enqueued_at": created,
                "stage_timings": timings,
                "error": "boom" if state == "failed" else None,
                "device": "cpu",
                "result_prefix": None,
                "created_at": created,
                "started_at": created,
                "finished_at": finished,
            }
        )
    with db.engine.begin() as connection:
        for start in range(0, jobs, 5000):
            connection.execute(insert(Font), fonts[start : start + 5000])
            connection.execute(insert(Job), rows[start : start + 5000])
        connection.execute(
            insert(Worker),
            [
                {
                    "id": f"w{i}",
                    "hostname": f"gpu-{i}",
                    "pid": i,
                    "device": "cuda: NVIDIA H200",
                    "current_job_id": None,
                    "started_at": now,
                    "last_seen_at": now - timedelta(seconds=i * 5),
                }
                for i in range(20)
            ],
        )
        connection.execute(
            insert(OutboxMessage),
            [
                {
                    "topic": "geulssi.jobs",
                    "key": None,
                    "payload": b"{}",
                    "created_at": now,
                    "published_at": None if i % 50 == 0 else now,
                }
                for i in range(5000)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    name = f"geulssi_bench_{secrets.token_hex(4)}"
    server = create_engine(SERVER)
    with server.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    db = Database(f"{SERVER}/{name}?charset=utf8mb4")
    try:
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        fill(db, args.jobs, random.Random(1))
        filled = time.perf_counter() - started
        collect, render = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with db.session() as session:
                summary = ops_summary.collect(
                    session, now=utcnow(), lease_seconds=60, dead_letter_topic="dead"
                )
            t1 = time.perf_counter()
            prometheus.render(summary, KafkaStats(False, "unavailable: bench"))
            collect.append(t1 - t0)
            render.append(time.perf_counter() - t1)
        print(
            json.dumps(
                {
                    "jobs": args.jobs,
                    "fill_s": round(filled, 1),
                    "collect_ms_median": round(statistics.median(collect) * 1000, 1),
                    "collect_ms_max": round(max(collect) * 1000, 1),
                    "render_ms_median": round(statistics.median(render) * 1000, 2),
                    "succeeded_24h": summary.finished_last_24h,
                    "cpu": platform.processor() or platform.machine(),
                    "load_avg": os.getloadavg(),
                }
            )
        )
    finally:
        db.dispose()
        with server.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


if __name__ == "__main__":
    main()
