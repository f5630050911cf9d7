"""Operator figures without servers: percentiles, histograms, Prometheus text, Kafka degrading, CLI table."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from services.api import prometheus
from services.api.operators import summary_json
from services.cli.ops_cmd import render_table, table
from services.config import Settings
from services.db import operations
from services.db.ops_summary import (
    BUCKETS,
    Failure,
    RunningJob,
    Summary,
    WorkerStatus,
    cumulative_buckets,
    percentile,
    stage_stats,
)
from services.db.session import utcnow
from services.queue import kafka_stats
from services.queue.broker import free_port
from services.queue.kafka_stats import KafkaStats, PartitionLag

NOW = datetime(2026, 11, 29, 8, 0, 0)


def test_percentile_matches_numpy_linear_interpolation() -> None:
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 10, 101):
        values = list(rng.exponential(60.0, size))
        for q in (0, 25, 50, 90, 95, 99, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_by_hand_and_refusals() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([10.0, 30.0], 95) == pytest.approx(29.0)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        percentile([1.0], 101)


def test_buckets_are_cumulative_and_end_with_everything() -> None:
    values = [0.5, 1.0, 4.0, 61.0, 9000.0]
    buckets = cumulative_buckets(values)
    assert [b for b, _ in buckets] == [*BUCKETS, math.inf]
    counts = [n for _, n in buckets]
    assert counts == sorted(counts)
    assert dict(buckets)[1.0] == 2  # le is "less than or equal"
    assert dict(buckets)[60.0] == 3 and dict(buckets)[120.0] == 4
    assert buckets[-1] == (math.inf, 5)


def test_stage_stats_orders_stages_as_the_pipeline_runs_and_skips_junk() -> None:
    stats = stage_stats(
        [
            {"package": 3.0, "finetune": 100.0, "generate": 20.0},
            {"finetune": 300.0, "generate": 40.0, "extra": 1.0},
            {"finetune": float("nan"), "generate": "soon"},  # type: ignore[dict-item]
            {},
        ]
    )
    assert [s.stage for s in stats] == ["finetune", "generate", "package", "extra"]
    finetune = stats[0]
    assert finetune.count == 2 and finetune.median_seconds == 200.0 and finetune.sum_seconds == 400.0
    assert finetune.p95_seconds == pytest.approx(290.0)


def summary(**changes: object) -> Summary:
    base = Summary(
        generated_at=NOW,
        jobs={"queued": 2, "running": 1, "succeeded": 5, "failed": 1, "cancelled": 0},
        oldest_queued_age_seconds=42.5,
        finished_last_hour=3,
        finished_last_24h=5,
        failed_last_24h=1,
        stages=stage_stats([{"finetune": 100.0, "generate": 20.0}, {"finetune": 300.0}]),
        workers=[
            WorkerStatus(
                id='gpu-1:42:"x"',
                hostname="gpu-1",
                pid=42,
                device="cuda: NVIDIA H200",
                current_job_id="j1",
                stage="finetune",
                started_at=NOW - timedelta(hours=1),
                last_seen_at=NOW - timedelta(seconds=5),
                seconds_since_heartbeat=5.0,
                lost=False,
            )
        ],
        failures=[Failure("j9", "f9", "trace", 3, "boom\nsecond line", NOW)],
        outbox_backlog=4,
        outbox_oldest_age_seconds=1.5,
        dead_letters=1,
    )
    return Summary(**{**base.__dict__, **changes})  # type: ignore[arg-type]


KAFKA = KafkaStats(
    True,
    topic="geulssi.jobs",
    group="geulssi-workers",
    members=None,
    partitions=[PartitionLag(0, 3, 5, 2), PartitionLag(1, None, 4, 4)],
)


def parse(text: str) -> dict[str, float]:
    """sample line -> value; checks every line is a comment or a well-formed sample."""
    samples: dict[str, float] = {}
    pattern = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        match = pattern.match(line)
        assert match, line
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3).replace("+Inf", "inf"))
    return samples


def test_prometheus_text_has_the_figures_under_conventional_names() -> None:
    text = prometheus.render(summary(), KAFKA)
    assert text.endswith("\n")
    samples = parse(text)
    assert samples['geulssi_jobs{state="queued"}'] == 2
    assert samples['geulssi_jobs{state="succeeded"}'] == 5
    assert samples["geulssi_oldest_queued_job_age_seconds"] == 42.5
    assert samples["geulssi_outbox_backlog"] == 4 and samples["geulssi_dead_letters"] == 1
    assert (
        samples['geulssi_kafka_consumer_lag{topic="geulssi.jobs",group="geulssi-workers",partition="1"}'] == 4
    )
    assert samples['geulssi_stage_duration_seconds_bucket{stage="finetune",le="+Inf"}'] == 2
    assert samples['geulssi_stage_duration_seconds_bucket{stage="finetune",le="120"}'] == 1
    assert samples['geulssi_stage_duration_seconds_sum{stage="finetune"}'] == 400
    assert samples['geulssi_stage_duration_seconds_count{stage="generate"}'] == 1
    key = next(k for k in samples if k.startswith("geulssi_worker_last_heartbeat_timestamp_seconds"))
    assert 'worker="gpu-1:42:\\"x\\""' in key  # the quote in the id is escaped
    assert samples[key] == NOW.replace(tzinfo=UTC).timestamp() - 5  # naive timestamps are UTC
    types = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert len(types) == len({name for name, _ in types})  # each family declared once
    assert ("geulssi_stage_duration_seconds", "histogram") in types


def test_prometheus_formatting_details() -> None:
    assert prometheus.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert prometheus.format_value(3.0) == "3" and prometheus.format_value(0.25) == "0.25"
    assert prometheus.format_value(math.inf) == "+Inf" and prometheus.format_value(math.nan) == "NaN"
    assert prometheus.sample("m", 1, {"a": "x"}) == 'm{a="x"} 1'


def test_json_and_terminal_table_say_the_same() -> None:
    body = summary_json(summary(), KAFKA)
    assert body["generated_at"] == "2026-11-29T08:00:00+00:00"
    assert body["finished_per_hour_24h"] == round(5 / 24, 2)
    assert body["kafka"]["total_lag"] == 6
    assert body["stages"][0]["buckets"][-1] == ["+Inf", 2]
    text = render_table(body)
    assert "queued  running  succeeded  failed  cancelled" in text
    assert "cuda: NVIDIA H200" in text and "5 s ago" in text
    assert "members unknown (the broker cannot describe groups), lag 6" in text
    assert "boom" in text and "second line" not in text  # the first line of the error only
    assert "running jobs" in text
    running = RunningJob("j1", "f1", "build", "finetune", 0.42, 190.0, 75.0, 1, 'gpu-1:42:"x"')
    busy = render_table(summary_json(summary(running=[running]), KAFKA)).splitlines()
    row = next(line for line in busy if line.startswith("j1 "))
    assert row.split()[:7] == ["j1", "f1", "build", "finetune", "42%", "3", "min"]
    paused = summary(intake=operations.IntakeState(True, "disk full", "kim", NOW))
    assert "intake: PAUSED by kim (disk full)" in render_table(summary_json(paused, KAFKA))


def test_table_pads_columns() -> None:
    assert table(["a", "long"], [[1, None]]).splitlines() == ["a  long", "-  ----", "1  -"]


def test_kafka_figures_degrade_to_a_reason() -> None:
    nothing = kafka_stats.collect(Settings(kafka_bootstrap_servers=""))
    assert not nothing.available and "no Kafka broker configured" in (nothing.reason or "")
    closed = kafka_stats.collect(Settings(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}"), 1.0)
    assert not closed.available and (closed.reason or "").startswith("unavailable: ")


def test_cancelling_mid_build_stops_the_worker(tmp_path: Path) -> None:
    from services.db import jobs, migrate
    from services.db.session import Database
    from services.queue.messages import JobMessage
    from services.worker.handler import Outcome
    from tests.unit.test_service_handler import FakeBuilder, make_handler, queued_job

    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    migrate.upgrade(db.engine)
    settings = Settings(
        database_url="sqlite://", storage_dir=tmp_path / "art", lease_seconds=30, work_dir=tmp_path
    )
    _, job_id = queued_job(db)

    def cancel() -> None:
        with db.session() as session:
            operations.cancel_job(session, job_id, "kim", utcnow())

    outcome = make_handler(db, settings, FakeBuilder(during=cancel)).handle(JobMessage(job_id))
    with db.session() as session:
        job = jobs.get_job(session, job_id)
    db.dispose()
    assert outcome is Outcome.LOST
    assert job is not None and job.state == "cancelled" and job.active_font_id is None
    assert job.error == operations.CANCELLED_ERROR
    assert not list(Path(settings.storage_dir).rglob("*.ttf"))


def test_the_device_label_names_the_gpu() -> None:
    import torch

    from services.worker.service import describe_device

    assert describe_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        assert describe_device("cuda") == "cuda"  # no driver: the plain device, no crash
        pytest.skip("no CUDA GPU here to read a model name from")
    label = describe_device("cuda")
    assert label.startswith("cuda: ") and torch.cuda.get_device_name(0)[:40] in label and len(label) <= 64
