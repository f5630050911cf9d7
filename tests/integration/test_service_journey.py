"""The journey API on MariaDB: per-page state kept across uploads, the continue-link QR code, fixing marked
syllables (validation, the queued "repackage" job and its message), running jobs on /ops, and the Kafka
consumer-group line against a real Tansu broker with a member consuming."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select, update

from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.db.tables import REPACKAGE, Glyph, OutboxMessage
from services.queue import kafka_stats
from services.queue.broker import LocalBroker
from services.queue.messages import JobMessage, decode
from services.storage import LocalArtifactStore, result_key, result_prefix
from tests.integration.test_service_operators import app_client

pytestmark = pytest.mark.mysql


def create(client: TestClient) -> tuple[str, dict[str, str]]:
    created = client.post("/api/fonts", json={"name": "여정"}).json()
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


def upload(client: TestClient, font_id: str, auth: dict[str, str], page: int, jpeg: bytes) -> None:
    answer = client.post(
        f"/api/fonts/{font_id}/pages", headers=auth, files=[("photos", (f"p{page}.jpg", jpeg, "image/jpeg"))]
    )
    assert answer.status_code == 200, answer.text


def mark_one_faint(db: Database, font_id: str, page: int) -> int:
    """One read cell of `page` turns out faint (as if the extractor had judged so); returns its code point."""
    with db.session() as session:
        on_page = select(Glyph.codepoint).where(Glyph.font_id == font_id, Glyph.page == page)
        cp = session.scalars(on_page).first()
        assert cp is not None
        session.execute(
            update(Glyph).where(Glyph.font_id == font_id, Glyph.codepoint == cp).values(status="faint")
        )
        session.commit()
        return int(cp)

def test_each_page_keeps_its_latest_state_and_a_page_never_uploaded_says_so(
    client: TestClient, db: Database, photos: dict[int, bytes]
) -> None:
    font_id, auth = create(client)
    fresh = client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()
    assert [(p["page"], p["uploaded"], p["to_rewrite"]) for p in fresh["pages"]] == [
        (1, False, []),
        (2, False, []),
        (3, False, []),
    ]
    upload(client, font_id, auth, 1, photos[1])
    upload(client, font_id, auth, 2, photos[2])
    cp = mark_one_faint(db, font_id, page=2)  # it must be listed with its reason
    upload(client, font_id, auth, 1, photos[1])  # page 1 retaken: page 2's report must stay
    state = client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()
    page1, page2, page3 = state["pages"]
    assert page1["uploaded"] and page2["uploaded"] and not page3["uploaded"]
    assert page3["script"] == "latin" and page3["cells_total"] == 94 and page3["sheet_url"] is None
    assert [c["codepoint"] for c in page2["to_rewrite"] if c["status"] == "faint"] == [cp]
    assert "dark pen" in next(c["reason"] for c in page2["to_rewrite"] if c["codepoint"] == cp)
    assert page2["cells_ok"] == page2["cells_total"] - len(page2["to_rewrite"])
    assert len(state["written"]) == page1["cells_ok"] + page2["cells_ok"]
    assert state["wait"] is None and state["can_fix"] is False
    assert page1["writing_line"] is None and page3["writing_line"] is None  # no line / not uploaded
    upload(client, font_id, auth, 3, photos[3])
    page3 = client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()["pages"][2]
    assert page3["uploaded"] and page3["writing_line"] == "written"  # the simulated writer fills it in


def test_a_refused_submit_says_upload_for_pages_never_uploaded_and_write_again_for_unusable_cells(
    client: TestClient, db: Database, photos: dict[int, bytes]
) -> None:
    font_id, auth = create(client)
    submit = f"/api/fonts/{font_id}/submit"
    fresh = client.post(submit, headers=auth)
    assert fresh.status_code == 409
    assert fresh.json()["detail"] == (
        "200 of the 200 Hangul cells are not usable yet: upload pages 1, 2 (not uploaded yet)"
    )
    assert {c["status"] for c in fresh.json()["missing"]} == {"not uploaded"}

    upload(client, font_id, auth, 1, photos[1])
    cp = mark_one_faint(db, font_id, page=1)  # that one is to be written again
    mixed = client.post(submit, headers=auth).json()
    rejected = [c for c in mixed["missing"] if c["status"] != "not uploaded"]
    assert cp in [c["codepoint"] for c in rejected] and {c["page"] for c in rejected} == {1}
    cells = "cell" if len(rejected) == 1 else "cells"
    assert mixed["detail"] == (
        f"{len(mixed['missing'])} of the 200 Hangul cells are not usable yet: "
        f"upload page 2 (not uploaded yet); write the {len(rejected)} unusable {cells} of page 1 again "
        "and upload that page again"
    )


def test_the_continue_link_qr_code_needs_the_token_and_is_never_cached(client: TestClient) -> None:
    font_id, auth = create(client)
    qr = client.get(f"/api/fonts/{font_id}/link.svg", headers=auth)
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.headers["cache-control"] == "no-store" and b"<svg" in qr.content and b"<path" in qr.content
    assert client.get(f"/api/fonts/{font_id}/link.svg").status_code == 401


def test_fixing_syllables_queues_a_repackage_job_of_the_finished_font(
    client: TestClient, db: Database, store: LocalArtifactStore, settings: Settings, photos: dict[int, bytes]
) -> None:
    font_id, auth = create(client)
    upload(client, font_id, auth, 1, photos[1])
    fix = f"/api/fonts/{font_id}/fix"
    not_built = client.post(fix, headers=auth, json={"codepoints": [0xBDC1]})
    assert not_built.status_code == 409 and "not been built" in not_built.json()["detail"]
    with db.session() as session:  # a finished build, as the worker leaves it
        job, _ = jobs.submit_job(session, font_id, settings.jobs_topic, utcnow())
        assert jobs.claim_job(session, job.id, "w", 60, 3, utcnow())
        prefix = result_prefix(font_id, job.id)
        store.put(result_key(prefix, "ttf"), b"ttf")
        assert jobs.finish_job(session, job.id, "w", prefix, {}, utcnow())
    old = client.post(fix, headers=auth, json={"codepoints": [0xBDC1]})
    assert old.status_code == 409 and "build it again" in old.json()["detail"]
    store.put(f"{prefix}/writer.pt", b"w")
    store.put(f"{prefix}/glyphs.zip", b"PK")
    assert client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()["can_fix"] is True

    latin = client.post(fix, headers=auth, json={"codepoints": [65]})
    assert latin.status_code == 422 and "only Hangul syllables" in latin.json()["detail"]
    own = client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()["written"][0]
    mine = client.post(fix, headers=auth, json={"codepoints": [own]})
    assert (
        mine.status_code == 422
        and "your own hand" in mine.json()["detail"]
        and "page 1" in mine.json()["detail"]
    )
    assert client.post(fix, headers=auth, json={"codepoints": []}).status_code == 422

    queued = client.post(fix, headers=auth, json={"codepoints": [0xBDC1, 0xB6A0, 0xBDC1]})
    assert queued.status_code == 202, queued.text
    fix_id = queued.json()["job"]["id"]
    with db.session() as session:
        row = jobs.get_job(session, fix_id)
        assert row is not None and row.kind == REPACKAGE
        assert row.params == {"base_job": job.id, "codepoints": [0xB6A0, 0xBDC1], "attempt": 0}
        messages = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == settings.jobs_topic)
        )
        assert JobMessage(fix_id) in [decode(m) for m in messages]  # the same queue as builds
    state = client.get(f"/api/fonts/{font_id}/journey", headers=auth).json()
    assert state["job_kind"] == REPACKAGE and state["wait"]["state"] == "queued"
    assert state["wait"]["seconds_left"] > 0 and state["wait"]["measured"] is False
    busy = client.post(fix, headers=auth, json={"codepoints": [0xBDC1]})
    assert busy.status_code == 409 and "still running" in busy.json()["detail"]


def test_ops_shows_each_running_job_with_stage_progress_and_elapsed_time(
    settings: Settings, db: Database, store: LocalArtifactStore
) -> None:
    with db.session() as session:
        font, _ = queries.create_font(session, "ops")
        job, _ = jobs.submit_job(session, font.id, settings.jobs_topic, utcnow())
        assert jobs.claim_job(session, job.id, "gpu-1:7:ab", 60, 3, utcnow())
        assert jobs.record_progress(
            session, job.id, "gpu-1:7:ab", "generate", 0.65, {"finetune": 30.0, "generate": 4.0}
        )
    time.sleep(0.05)
    with app_client(settings.model_copy(update={"operator_token": "op-token"}), db, store) as client:
        body = client.get("/api/ops/summary", headers={"Authorization": "Bearer op-token"}).json()
    [running] = body["running"]
    assert running["job_id"] == job.id and running["stage"] == "generate" and running["progress"] == 0.65
    assert (
        running["elapsed_seconds"] > 0
        and running["stage_seconds"] == 4.0
        and running["worker"] == "gpu-1:7:ab"
    )


@pytest.mark.kafka
def test_the_consumer_group_is_never_reported_empty_while_a_worker_consumes(
    kafka_settings: Settings, broker: LocalBroker
) -> None:
    topic, group = kafka_settings.jobs_topic, kafka_settings.consumer_group
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    producer.send(topic, b"{}").get(timeout=10)  # the topic exists before the consumer joins
    producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=group,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        enable_auto_commit=False,
    )
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=300)
        assert consumer.assignment(), "the consumer never joined its group"
        stats = kafka_stats.collect(kafka_settings)
    finally:
        consumer.close()
    assert stats.available, stats.reason
    # Tansu neither lists nor describes groups: "unknown" (None), never an empty member list
    assert stats.members is None or len(stats.members) >= 1
