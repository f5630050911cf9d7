"""The S3 store fails like the local store (full: 507, unreachable: 503); the settings choose the store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.api.app import STORE_DOWN, STORE_FULL, create_app
from services.cli.main import main
from services.config import Settings, get_settings
from services.db import migrate
from services.db.session import Database
from services.queue.broker import free_port
from services.storage import (
    ArtifactStore,
    LocalArtifactStore,
    StorageFull,
    StorageUnavailable,
    open_store,
    parse_storage_url,
)
from services.storage.s3 import S3ArtifactStore
from tests.s3_server import ACCESS_KEY, MINIO_FULL, REGION, SECRET_KEY, S3Server, s3_store

NO_SUCH_KEY = b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"


class _FullMinio(BaseHTTPRequestHandler):
    """Answers like a MinIO whose drives are full: reads work (nothing is there), every write gets 507."""

    def _answer(self, status: int, body: bytes, with_body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(404, NO_SUCH_KEY)

    def do_HEAD(self) -> None:
        self._answer(404, NO_SUCH_KEY, with_body=False)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(507, MINIO_FULL)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def full_s3() -> Iterator[str]:
    """An endpoint that behaves like a full MinIO."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FullMinio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


BUCKET = "geulssi"


def test_a_full_store_says_so_and_stores_nothing(full_s3: str) -> None:
    store = s3_store(full_s3, BUCKET)
    with pytest.raises(StorageFull, match=r"artifact store s3://geulssi/ at .* is full: fonts/f1/x\.bin"):
        store.put("fonts/f1/x.bin", b"x" * 1000)
    assert not store.exists("fonts/f1/x.bin")


def test_an_unreachable_store_says_so() -> None:
    store = s3_store(f"http://127.0.0.1:{free_port()}", BUCKET)  # nothing listens there
    for call in (
        lambda: store.put("fonts/f1/x.bin", b"x"),
        lambda: store.get("fonts/f1/x.bin"),
        lambda: store.stream("fonts/f1/x.bin"),
        lambda: store.exists("fonts/f1/x.bin"),
        lambda: store.delete("fonts/f1/x.bin"),
        lambda: store.delete_prefix("fonts/f1"),
    ):
        with pytest.raises(StorageUnavailable, match="cannot be reached"):
            call()


def test_a_missing_bucket_is_named(s3_server: S3Server) -> None:
    store = s3_server.store("geulssi-never-created")
    with pytest.raises(StorageUnavailable, match="has no bucket 'geulssi-never-created'; create it"):
        store.put("fonts/f1/x.bin", b"x")


def _app(tmp_path: Path, store: ArtifactStore) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", storage_dir=tmp_path / "unused")
    db = Database(settings.database_url)
    migrate.upgrade(db.engine)
    return TestClient(create_app(settings, db=db, store=store, relay=False))


def test_the_api_answers_503_when_the_store_is_unreachable(tmp_path: Path) -> None:
    with _app(tmp_path, s3_store(f"http://127.0.0.1:{free_port()}", BUCKET)) as client:
        answer = client.get("/api/template.pdf")
    assert answer.status_code == 503
    assert answer.json() == {"detail": STORE_DOWN}
    assert answer.headers["Retry-After"] == "30"


def test_the_api_answers_507_when_the_store_is_full(tmp_path: Path, full_s3: str) -> None:
    with _app(tmp_path, s3_store(full_s3, BUCKET)) as client:
        answer = client.get("/api/template.pdf")
    assert answer.status_code == 507
    assert answer.json() == {"detail": STORE_FULL}


def test_the_settings_pick_the_store(tmp_path: Path, s3_server: S3Server) -> None:
    local = open_store(Settings(storage_dir=tmp_path / "art"))
    assert isinstance(local, LocalArtifactStore) and local.root == (tmp_path / "art").resolve()
    bucket = s3_server.new_bucket()
    settings = Settings(
        storage_url=f"s3://{bucket}/prod/artifacts",
        s3_endpoint_url=s3_server.endpoint,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SecretStr(SECRET_KEY),
        s3_region=REGION,
    )
    store = open_store(settings)
    assert isinstance(store, S3ArtifactStore)
    store.put("fonts/f1/x.bin", b"through the settings")
    assert s3_server.keys(bucket) == ["prod/artifacts/fonts/f1/x.bin"]
    assert SECRET_KEY not in repr(settings)  # the secret key never reaches a log line


@pytest.mark.parametrize(
    "url", ["http://host/bucket", "s3://", "s3://Bad_Bucket/x", "s3://geulssi/../etc", "/var/artifacts"]
)
def test_a_bad_storage_url_is_refused_with_a_sentence(url: str) -> None:
    with pytest.raises(ValueError, match="GEULSSI_STORAGE_URL must look like s3://bucket"):
        parse_storage_url(url)


def test_parse_storage_url() -> None:
    assert parse_storage_url("s3://geulssi") == ("geulssi", "")
    assert parse_storage_url("s3://geulssi.example/a/b/") == ("geulssi.example", "a/b")


def test_the_commands_refuse_a_bad_storage_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEULSSI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("GEULSSI_STORAGE_URL", "minio:9000/geulssi")
    monkeypatch.setenv("GEULSSI_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    get_settings.cache_clear()
    try:
        for command in ("api", "worker", "serve"):
            assert main([command]) == 2
            assert "GEULSSI_STORAGE_URL must look like s3://bucket" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
