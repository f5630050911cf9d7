"""The operator summary as Prometheus text exposition (format 0.0.4), written by hand.

Figures come from the database at scrape time, so the "histogram" of stage durations covers the jobs
finished in the summary's window (24 h) rather than counting since a process started: every API replica
then exports the same numbers, and a restart loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from services.db.ops_summary import Summary
from services.queue.kafka_stats import KafkaStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label(value: str) -> str:
    """A label value as the format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value: integers without a fraction, +Inf/-Inf/NaN spelled the Prometheus way."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def sample(name: str, value: float, labels: Mapping[str, str] | None = None) -> str:
    """One line: name{label="value",...} value."""
    if labels:
        inner = ",".join(f'{key}="{escape_label(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {format_value(value)}"
    return f"{name} {format_value(value)}"


class Exposition:
    """Collects metric families (HELP, TYPE, samples) in order and renders the text."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[str]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(summary: Summary, kafka: KafkaStats) -> str:
    """Every operator figure as Prometheus text."""
    out = Exposition()
    out.family(
        "geulssi_jobs",
        "gauge",
        "Build jobs by state.",
        (sample("geulssi_jobs", n, {"state": state}) for state, n in summary.jobs.items()),
    )
    out.family(
        "geulssi_oldest_queued_job_age_seconds",
        "gauge",
        "Age of the oldest queued job (0 when none is queued).",
        [sample("geulssi_oldest_queued_job_age_seconds", summary.oldest_queued_age_seconds or 0)],
    )
    out.family(
        "geulssi_jobs_finished_last_hour",
        "gauge",
        "Fonts built successfully in the last hour.",
        [sample("geulssi_jobs_finished_last_hour", summary.finished_last_hour)],
    )
    out.family(
        "geulssi_intake_paused",
        "gauge",
        "1 while an operator has paused new submissions.",
        [sample("geulssi_intake_paused", int(summary.intake.paused))],
    )
    histogram = []
    for stage in summary.stages:
        for bound, count in stage.buckets:
            histogram.append(
                sample(
                    "geulssi_stage_duration_seconds_bucket",
                    count,
                    {"stage": stage.stage, "le": format_value(bound)},
                )
            )
        histogram.append(
            sample("geulssi_stage_duration_seconds_sum", stage.sum_seconds, {"stage": stage.stage})
        )
        histogram.append(sample("geulssi_stage_duration_seconds_count", stage.count, {"stage": stage.stage}))
    out.family(
        "geulssi_stage_duration_seconds",
        "histogram",
        "Time per build stage, over the jobs finished in the last 24 hours.",
        histogram,
    )
    out.family(
        "geulssi_outbox_backlog",
        "gauge",
        "Outbox messages not yet published to Kafka.",
        [sample("geulssi_outbox_backlog", summary.outbox_backlog)],
    )
    out.family(
        "geulssi_dead_letters",
        "gauge",
        "Messages written to the dead-letter topic in the last 7 days (the outbox keeps them that long).",
        [sample("geulssi_dead_letters", summary.dead_letters)],
    )
    out.family(
        "geulssi_worker_last_heartbeat_timestamp_seconds",
        "gauge",
        "Unix time of each worker's last heartbeat.",
        (
            sample(
                "geulssi_worker_last_heartbeat_timestamp_seconds",
                _unix(worker.last_seen_at),
                {"worker": worker.id, "host": worker.hostname, "device": worker.device or ""},
            )
            for worker in summary.workers
        ),
    )
    out.family(
        "geulssi_worker_lost",
        "gauge",
        "1 for a worker silent for longer than the job lease.",
        (sample("geulssi_worker_lost", int(w.lost), {"worker": w.id}) for w in summary.workers),
    )
    out.family(
        "geulssi_kafka_up",
        "gauge",
        "1 when the Kafka figures could be read.",
        [sample("geulssi_kafka_up", int(kafka.available))],
    )
    out.family(
        "geulssi_kafka_consumer_lag",
        "gauge",
        "Messages on the jobs topic not yet committed by the workers' consumer group.",
        (
            sample(
                "geulssi_kafka_consumer_lag",
                p.lag,
                {"topic": kafka.topic, "group": kafka.group, "partition": str(p.partition)},
            )
            for p in kafka.partitions
        ),
    )
    return out.render()


def _unix(naive_utc: datetime) -> float:
    """Unix seconds of a naive UTC timestamp (as the database keeps them)."""
    return naive_utc.replace(tzinfo=UTC).timestamp()
