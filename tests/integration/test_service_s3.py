"""The API on an S3 store (moto over HTTP): a built font downloads streamed; deleting the font empties S3."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from services.api.app import create_app
from services.config import Settings
from services.db import jobs, migrate
from services.db.session import Database, utcnow
from services.storage import result_key, result_prefix
from tests.s3_server import S3Server


def test_a_font_in_s3_downloads_whole_and_is_deleted_with_its_font(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    store = s3_server.store(bucket, "site")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", storage_dir=tmp_path / "unused")
    db = Database(settings.database_url)
    migrate.upgrade(db.engine)
    ttf = os.urandom(3 * 1024 * 1024 + 17)  # several 1 MiB chunks and a short one
    with TestClient(create_app(settings, db=db, store=store, relay=False)) as client:
        created = client.post("/api/fonts", json={"name": "S3"}).json()
        font_id, auth = created["id"], {"Authorization": f"Bearer {created['token']}"}
        with db.session() as session:  # a "worker" finishes a job through the real transitions
            job, _ = jobs.submit_job(session, font_id, settings.jobs_topic, utcnow())
            job_id = job.id
            assert jobs.claim_job(session, job_id, "test-worker", 60, 3, utcnow())
            prefix = result_prefix(font_id, job_id)
            store.put(result_key(prefix, "ttf"), ttf)
            store.put(result_key(prefix, "woff2"), b"wOF2 bytes")
            assert jobs.finish_job(session, job_id, "test-worker", prefix, {"finetune": 1.0}, utcnow())
        answer = client.get(f"/api/fonts/{font_id}/font.ttf", headers=auth)
        assert answer.status_code == 200 and answer.headers["content-type"] == "font/ttf"
        assert answer.headers["content-length"] == str(len(ttf)) and answer.content == ttf
        missing = client.get(f"/api/fonts/{font_id}/preview.png", headers=auth)  # never stored
        assert missing.status_code == 404
        assert missing.json() == {"detail": "the font files are missing; submit the font again"}

        assert client.delete(f"/api/fonts/{font_id}", headers=auth).status_code == 204
    assert s3_server.keys(bucket) == []
    db.dispose()
