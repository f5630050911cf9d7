"""Operators on MariaDB (and Tansu): access, figures, audited actions, pause, a killed worker, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import select

from services.api.app import create_app
from services.api.operators import router
from services.api.template import template_index
from services.cli.main import main
from services.config import Settings, get_settings
from services.db import jobs, outbox, queries
from services.db.session import Database, utcnow
from services.db.tables import OperatorAction, OutboxMessage, Worker
from services.queue.messages import JobMessage, decode
from services.queue.relay import OutboxRelay
from services.storage import LocalArtifactStore
from tests.unit.test_service_ops import parse

pytestmark = pytest.mark.mysql

TOKEN = "operator-secret-for-tests"
OP = {"Authorization": f"Bearer {TOKEN}", "X-Operator": "kim"}
REPO = Path(__file__).resolve().parents[2]


def app_client(settings: Settings, db: Database, store: LocalArtifactStore) -> TestClient:
    return TestClient(create_app(settings, db=db, store=store, relay=False))


@pytest.fixture
def ops(settings: Settings, db: Database, store: LocalArtifactStore) -> Iterator[TestClient]:
    with app_client(settings.model_copy(update={"operator_token": TOKEN}), db, store) as client:
        yield client


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def new_job(db: Database, topic: str) -> str:
    with db.session() as session:
        font, _ = queries.create_font(session, "ops")
        return jobs.submit_job(session, font.id, topic, utcnow())[0].id


def claim(db: Database, job_id: str, owner: str, lease: float = 600) -> None:
    with db.session() as session:
        assert jobs.claim_job(session, job_id, owner, lease, 3, utcnow())


def fail_for_good(
    db: Database, settings: Settings, job_id: str, error: str = "boom: the trace failed"
) -> None:
    claim(db, job_id, "w-fail")
    with db.session() as session:
        jobs.record_progress(session, job_id, "w-fail", "trace", 0.8, {"finetune": 5.0})
        state = jobs.fail_attempt(
            session,
            job_id,
            "w-fail",
            error,
            retry_at=None,
            dead_letter_topic=settings.dead_letter_topic,
            now=utcnow(),
        )
    assert state == "failed"


def finish(db: Database, job_id: str, timings: dict[str, float]) -> None:
    claim(db, job_id, "w-done")
    with db.session() as session:
        assert jobs.finish_job(session, job_id, "w-done", f"fonts/x/builds/{job_id}", timings, utcnow())


def audit(db: Database) -> list[tuple[str, str, str | None, str | None]]:
    with db.session() as session:
        rows = session.scalars(select(OperatorAction).order_by(OperatorAction.id)).all()
        return [(r.actor, r.action, r.job_id or r.worker_id, r.detail) for r in rows]


ENDPOINTS = [
    ("GET", "/api/ops/summary"),
    ("GET", "/metrics"),
    ("GET", "/api/ops/actions"),
    ("POST", "/api/ops/jobs/{job_id}/retry"),
    ("POST", "/api/ops/jobs/{job_id}/cancel"),
    ("POST", "/api/ops/intake/pause"),
    ("POST", "/api/ops/intake/resume"),
    ("POST", "/api/ops/workers/{worker_id}/requeue"),
]


def test_every_operator_endpoint_needs_the_operator_token(
    ops: TestClient, settings: Settings, db: Database, store: LocalArtifactStore
) -> None:
    # The list above is every operator route but the static page shell: a new route must be added to it.
    routes = {(m, r.path) for r in router.routes for m in getattr(r, "methods", ())}
    assert routes - {("GET", "/ops")} == set(ENDPOINTS)
    job_id = new_job(db, settings.jobs_topic)
    font = ops.post("/api/fonts", json={"name": "user"}).json()
    user = {"Authorization": f"Bearer {font['token']}"}
    for method, path in ENDPOINTS:
        url = path.format(job_id=job_id, worker_id="w1")
        body = {"reason": "x"} if path.endswith("pause") else None
        bare = ops.request(method, url, json=body)
        assert bare.status_code == 401, (url, bare.text)
        assert "operator token" in bare.json()["detail"] and bare.headers["WWW-Authenticate"] == "Bearer"
        as_user = ops.request(method, url, json=body, headers=user)
        assert as_user.status_code == 403, (url, as_user.text)
        assert as_user.json()["detail"] == "this token is not the operator token"
    assert ops.get("/api/ops/summary", headers=OP).status_code == 200
    assert audit(db) == []  # nothing refused did anything
    with db.session() as session:
        assert jobs.get_job(session, job_id).state == "queued"  # type: ignore[union-attr]

    with app_client(settings, db, store) as switched_off:  # no GEULSSI_OPERATOR_TOKEN configured
        for method, path in ENDPOINTS:
            answer = switched_off.request(method, path.format(job_id=job_id, worker_id="w1"), headers=OP)
            assert answer.status_code == 503
            assert "set GEULSSI_OPERATOR_TOKEN" in answer.json()["detail"]
    assert ops.get("/ops").status_code == 200  # the page shell holds no data and needs no token


@pytest.mark.kafka
def test_the_figures_match_what_happened(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore
) -> None:
    settings = kafka_settings.model_copy(update={"operator_token": TOKEN})
    topic = settings.jobs_topic
    queued = [new_job(db, topic) for _ in range(2)]
    done = [new_job(db, topic) for _ in range(2)]
    finish(db, done[0], {"finetune": 10.0, "generate": 2.0})
    finish(db, done[1], {"finetune": 30.0, "generate": 4.0})
    failed = new_job(db, topic)
    fail_for_good(db, settings, failed)
    running = new_job(db, topic)
    claim(db, running, "gpu-1:7:ab")
    with db.session() as session:
        jobs.record_progress(session, running, "gpu-1:7:ab", "generate", 0.5, {"finetune": 12.0})
        outbox.worker_heartbeat(
            session,
            "gpu-1:7:ab",
            hostname="gpu-1",
            pid=7,
            device="cuda: NVIDIA H200",
            job_id=running,
            now=utcnow(),
        )

    with app_client(settings, db, store) as client:
        before = client.get("/api/ops/summary", headers=OP).json()
        assert before["outbox_backlog"] == 7  # six job messages and one dead letter, none sent yet
        assert OutboxRelay(db, settings).publish_pending() == 7
        # The group has read one message of partition 0: its lag there is one less than the log.
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.consumer_group
        )
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
        consumer.close()
        body = client.get("/api/ops/summary", headers=OP).json()
        metrics = client.get("/metrics", headers=OP)

    assert body["jobs"] == {"queued": 2, "running": 1, "succeeded": 2, "failed": 1, "cancelled": 0}
    assert 0 <= body["oldest_queued_age_seconds"] < 3600
    assert body["finished_last_hour"] == 2 and body["finished_last_24h"] == 2 and body["failed_last_24h"] == 1
    stages = {s["stage"]: s for s in body["stages"]}
    assert list(stages) == ["finetune", "generate"]
    assert stages["finetune"]["count"] == 2 and stages["finetune"]["median_seconds"] == 20.0
    assert stages["finetune"]["p95_seconds"] == pytest.approx(29.0)
    assert stages["generate"]["median_seconds"] == 3.0
    [worker] = body["workers"]
    assert (
        worker["id"] == "gpu-1:7:ab" and worker["current_job_id"] == running and worker["stage"] == "generate"
    )
    assert worker["device"] == "cuda: NVIDIA H200" and not worker["lost"]
    [failure] = body["failures"]
    assert failure["job_id"] == failed and failure["stage"] == "trace" and "boom" in failure["error"]
    assert body["outbox_backlog"] == 0 and body["dead_letters"] == 1
    kafka = body["kafka"]
    assert kafka["available"], kafka["reason"]
    by_partition = {p["partition"]: p for p in kafka["partitions"]}
    assert sum(p["end"] for p in by_partition.values()) == 6  # the six job messages, however batched
    assert by_partition[0]["committed"] == 1 and by_partition[0]["lag"] == by_partition[0]["end"] - 1
    assert kafka["total_lag"] == 5
    assert set(queued) <= {decode(m).job_id for m in _job_messages(db, topic)}  # type: ignore[union-attr]

    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    samples = parse(metrics.text)
    assert samples['geulssi_jobs{state="failed"}'] == 1 and samples["geulssi_outbox_backlog"] == 0
    assert samples['geulssi_stage_duration_seconds_count{stage="finetune"}'] == 2
    lags = [v for k, v in samples.items() if k.startswith("geulssi_kafka_consumer_lag{")]
    assert sum(lags) == 5 and samples["geulssi_kafka_up"] == 1


def _job_messages(db: Database, topic: str) -> list[bytes]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.topic == topic)))


def test_actions_work_and_are_audited(ops: TestClient, db: Database, settings: Settings) -> None:
    failed = new_job(db, settings.jobs_topic)
    fail_for_good(db, settings, failed)
    messages = len(_job_messages(db, settings.jobs_topic))

    retried = ops.post(f"/api/ops/jobs/{failed}/retry", headers=OP)
    assert retried.status_code == 200, retried.text
    assert retried.json()["job"]["state"] == "queued" and retried.json()["job"]["attempts"] == 0
    assert len(_job_messages(db, settings.jobs_topic)) == messages + 1  # a new message, same transaction
    again = ops.post(f"/api/ops/jobs/{failed}/retry", headers=OP)
    assert again.status_code == 409 and again.json()["detail"].endswith("only a failed job can be retried")
    assert ops.post("/api/ops/jobs/nope/retry", headers=OP).status_code == 404

    # Retried while the person already queued a new build of the same font: refused, nothing changes.
    other = new_job(db, settings.jobs_topic)
    fail_for_good(db, settings, other)
    with db.session() as session:
        font_id = jobs.get_job(session, other).font_id  # type: ignore[union-attr]
        newer, _ = jobs.submit_job(session, font_id, settings.jobs_topic, utcnow())
    clash = ops.post(f"/api/ops/jobs/{other}/retry", headers=OP)
    assert clash.status_code == 409 and f"job {newer.id}" in clash.json()["detail"]

    cancelled = ops.post(f"/api/ops/jobs/{newer.id}/cancel", headers=OP)
    assert cancelled.status_code == 200 and cancelled.json()["job"]["state"] == "cancelled"
    with db.session() as session:  # the font is free again: the person can submit anew
        assert jobs.submit_job(session, font_id, settings.jobs_topic, utcnow())[1] is True
    assert ops.post(f"/api/ops/jobs/{newer.id}/cancel", headers=OP).status_code == 409

    running = new_job(db, settings.jobs_topic)
    claim(db, running, "w-run")
    stop = ops.post(f"/api/ops/jobs/{running}/cancel", headers={"Authorization": f"Bearer {TOKEN}"})
    assert stop.status_code == 200
    with db.session() as session:  # what the worker's lease keeper and progress writes see next
        assert not jobs.renew_lease(session, running, "w-run", 60, utcnow())
        assert not jobs.record_progress(session, running, "w-run", "generate", 0.5, {})

    assert [(a, act, target) for a, act, target, _ in audit(db)] == [
        ("kim", "retry", failed),
        ("kim", "cancel", newer.id),
        ("operator", "cancel", running),  # no X-Operator header: the default name
    ]
    log = ops.get("/api/ops/actions", headers=OP).json()["actions"]
    assert [a["action"] for a in log] == ["cancel", "cancel", "retry"]  # newest first
    assert log[2]["detail"].startswith("previous error: boom")


def ready_font(ops: TestClient, db: Database) -> tuple[str, dict[str, str]]:
    """A font whose every Hangul cell is usable (stored directly, as extraction would), with its token."""
    created = ops.post("/api/fonts", json={"name": "쉬는 중"}).json()
    cells = [queries.GlyphCell(c.codepoint, "ok", None) for c in template_index().script("hangul")]
    with db.session() as session:
        queries.replace_pages(session, created["id"], [queries.PageWrite(1, "p.jpg", "k", "s", {}, cells)])
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


def test_paused_intake_refuses_submissions_until_resumed(ops: TestClient, db: Database) -> None:
    font_id, user = ready_font(ops, db)
    assert ops.post("/api/ops/intake/pause", headers=OP, json={}).status_code == 422  # a reason is needed
    paused = ops.post("/api/ops/intake/pause", headers=OP, json={"reason": "database upgrade"})
    assert paused.status_code == 200 and paused.json()["intake"]["paused"] is True

    refused = ops.post(f"/api/fonts/{font_id}/submit", headers=user)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "300"
    assert "paused" in refused.json()["detail"] and "database upgrade" in refused.json()["detail"]
    summary = ops.get("/api/ops/summary", headers=OP).json()
    assert summary["intake"]["paused"] and summary["intake"]["changed_by"] == "kim"
    assert summary["jobs"]["queued"] == 0

    assert ops.post("/api/ops/intake/resume", headers=OP).json()["intake"]["paused"] is False
    accepted = ops.post(f"/api/fonts/{font_id}/submit", headers=user)
    assert accepted.status_code == 202, accepted.text
    assert [(act, detail) for _, act, _, detail in audit(db)] == [
        ("pause", "database upgrade"),
        ("resume", None),
    ]


@pytest.mark.kafka
def test_a_killed_worker_shows_as_lost_and_its_job_is_requeued(
    db: Database, kafka_settings: Settings, store: LocalArtifactStore, mysql_url: str, tmp_path: Path
) -> None:
    settings = kafka_settings.model_copy(update={"operator_token": TOKEN, "lease_seconds": 4.0})
    env = {
        **os.environ,
        "GEULSSI_DATABASE_URL": mysql_url,
        "GEULSSI_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "GEULSSI_JOBS_TOPIC": settings.jobs_topic,
        "GEULSSI_DEAD_LETTER_TOPIC": settings.dead_letter_topic,
        "GEULSSI_CONSUMER_GROUP": settings.consumer_group,
        "GEULSSI_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "GEULSSI_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "GEULSSI_LEASE_SECONDS": "4",
        "GEULSSI_DEVICE": "cpu",
        "GEULSSI_STORAGE_DIR": str(tmp_path / "artifacts"),
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "worker"], cwd=REPO, env=env, stdout=log, stderr=log
    )
    try:
        with app_client(settings, db, store) as client:

            def workers() -> list[dict[str, object]]:
                return list(client.get("/api/ops/summary", headers=OP).json()["workers"])

            assert wait_for(lambda: len(workers()) == 1 and not workers()[0]["lost"], 60), (
                tmp_path / "worker.log"
            ).read_text()
            worker_id = str(workers()[0]["id"])
            assert workers()[0]["device"] == "cpu"
            # The worker is building this job (claimed under its name, with a long lease). Its message goes
            # to a topic nobody reads, so the worker cannot race the test to claim it for real.
            job_id = new_job(db, f"{settings.jobs_topic}-unread")
            claim(db, job_id, worker_id)
            early = client.post(f"/api/ops/workers/{worker_id}/requeue", headers=OP)
            assert early.status_code == 409 and "it is not lost" in early.json()["detail"]

            worker.kill()  # SIGKILL: no goodbye, the heartbeats just stop
            worker.wait(10)
            assert wait_for(lambda: bool(workers()[0]["lost"]), 30)
            requeued = client.post(f"/api/ops/workers/{worker_id}/requeue", headers=OP)
            assert requeued.status_code == 200 and requeued.json()["requeued"] == [job_id]
            assert client.post("/api/ops/workers/nobody/requeue", headers=OP).status_code == 404
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        log.close()
    with db.session() as session:
        job = jobs.get_job(session, job_id)
        beat = session.get(Worker, worker_id)
    assert job is not None and job.state == "queued" and job.lease_owner is None and job.attempts == 0
    assert JobMessage(job_id) in [decode(m) for m in _job_messages(db, settings.jobs_topic)]
    assert beat is not None and beat.current_job_id is None
    assert audit(db) == [("kim", "requeue", worker_id, f"requeued {job_id}")]


@pytest.fixture
def cli_env(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GEULSSI_DATABASE_URL", mysql_url)
    monkeypatch.setenv("GEULSSI_KAFKA_BOOTSTRAP_SERVERS", "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cli_prints_the_summary_and_acts(
    db: Database, settings: Settings, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = new_job(db, get_settings().jobs_topic)
    fail_for_good(db, settings, failed)
    queued = new_job(db, get_settings().jobs_topic)

    assert main(["ops", "status"]) == 0
    out = capsys.readouterr().out
    assert "queued  running  succeeded  failed  cancelled" in out
    assert "1       0        0          1       0" in out
    assert failed in out and "boom: the trace failed" in out
    assert "kafka: unavailable: no Kafka broker configured" in out

    assert main(["ops", "retry", failed, "--as", "lee"]) == 0
    assert main(["ops", "cancel", queued]) == 0
    assert main(["ops", "pause", "--reason", "moving racks", "--as", "lee"]) == 0
    assert main(["ops", "resume", "--as", "lee"]) == 0
    assert f"job {queued} is now cancelled" in capsys.readouterr().out
    assert main(["ops", "retry", "nope"]) == 2
    assert "error: there is no job 'nope'" in capsys.readouterr().err
    assert main(["ops", "requeue", "nobody"]) == 2
    actions = audit(db)
    assert [(a, act) for a, act, _, _ in actions] == [
        ("lee", "retry"),
        (actions[1][0], "cancel"),
        ("lee", "pause"),
        ("lee", "resume"),
    ]
    assert "@" in actions[1][0]  # $USER@host when --as is not given
