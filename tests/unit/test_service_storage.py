"""The artifact stores keep the same promises: the same cases run on a local folder and on S3 (moto, HTTP)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.storage import (
    ArtifactNotFound,
    ArtifactStore,
    LocalArtifactStore,
    photo_key,
    result_key,
    result_prefix,
    validate_key,
)
from services.storage.s3 import S3ArtifactStore
from tests.s3_server import S3Server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """A fresh, empty store of each kind: a folder, or a new bucket (under a prefix) on the S3 server."""
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "store")
    server: S3Server = request.getfixturevalue("s3_server")
    return server.store(server.new_bucket(), "geulssi/artifacts")


def test_put_get_exists_delete(store: ArtifactStore) -> None:
    key = photo_key("font1", 2, "up1", ".jpg")
    assert not store.exists(key)
    store.put(key, b"photo bytes")
    assert store.exists(key)
    assert store.get(key) == b"photo bytes"
    store.put(key, b"replaced")
    assert store.get(key) == b"replaced"
    store.delete(key)
    store.delete(key)  # twice is fine
    assert not store.exists(key)
    with pytest.raises(ArtifactNotFound):
        store.get(key)


def test_an_empty_artifact_is_still_an_artifact(store: ArtifactStore) -> None:
    store.put("fonts/a/empty.bin", b"")
    assert store.exists("fonts/a/empty.bin")
    assert store.get("fonts/a/empty.bin") == b""
    artifact = store.stream("fonts/a/empty.bin")
    assert artifact.size == 0 and b"".join(artifact.chunks) == b""


def test_stream_gives_the_whole_artifact_in_chunks(store: ArtifactStore) -> None:
    data = os.urandom(300_000)
    store.put("fonts/a/font.ttf", data)
    artifact = store.stream("fonts/a/font.ttf", chunk_size=64 * 1024)
    chunks = list(artifact.chunks)
    assert artifact.size == len(data)
    assert len(chunks) >= 5 and all(len(c) <= 64 * 1024 for c in chunks)
    assert b"".join(chunks) == data


def test_streaming_a_missing_artifact_fails_before_any_byte(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound):
        store.stream("fonts/a/font.ttf")


def test_delete_prefix_removes_a_whole_font(store: ArtifactStore) -> None:
    prefix = result_prefix("fontA", "job1")
    store.put(result_key(prefix, "ttf"), b"ttf")
    store.put(photo_key("fontA", 1, "u", ".png"), b"png")
    store.put(photo_key("fontB", 1, "u", ".png"), b"other font")
    store.put(photo_key("fontAB", 1, "u", ".png"), b"a font whose id starts the same")
    store.delete_prefix("fonts/fontA")
    assert not store.exists(result_key(prefix, "ttf"))
    assert not store.exists(photo_key("fontA", 1, "u", ".png"))
    assert store.get(photo_key("fontB", 1, "u", ".png")) == b"other font"
    assert store.get(photo_key("fontAB", 1, "u", ".png")) == b"a font whose id starts the same"
    store.delete_prefix("fonts/fontA")  # nothing left: still fine


def test_delete_prefix_removes_more_than_one_batch(store: ArtifactStore) -> None:
    if isinstance(store, S3ArtifactStore):
        store.batch = 2  # S3 lists and deletes 1000 keys at a time; 2 makes five keys take three rounds
    for i in range(5):
        store.put(f"fonts/big/pages/{i}.png", b"x")
    store.put("fonts/solo", b"an artifact named like a prefix")
    store.delete_prefix("fonts/big")
    store.delete_prefix("fonts/solo")
    assert not [i for i in range(5) if store.exists(f"fonts/big/pages/{i}.png")]
    assert not store.exists("fonts/solo")


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/abs/path", "a//b", ".hidden", "a/../b", "a/./b", "a\\b", "", "a/b/", "fonts/a b"],
)
def test_keys_that_could_escape_are_refused(store: ArtifactStore, key: str) -> None:
    for call in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.stream(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError, match="not a valid artifact key"):
            call()
    with pytest.raises(ValueError):
        validate_key(key)


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put("fonts/a/x.bin", b"1" * 10_000)
    files = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert files == ["x.bin"]


def test_s3_objects_live_under_the_configured_prefix(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store = s3_server.store(bucket, "/site-a/artifacts/")
    store.put("fonts/a/x.bin", b"x")
    other = s3_server.store(bucket, "site-b")
    other.put("fonts/a/x.bin", b"y")
    store.delete_prefix("fonts/a")
    assert s3_server.keys(bucket) == ["site-b/fonts/a/x.bin"]


def test_generated_keys_are_valid() -> None:
    # Random ids (secrets.token_urlsafe) may start with "-" or "_".
    assert (
        result_prefix("-YK-iKhDNOUo8-92", "_unPB0QgEbKLLG83", 2)
        == "fonts/-YK-iKhDNOUo8-92/builds/_unPB0QgEbKLLG83/2"
    )
    assert (
        validate_key(photo_key("Zq3k1xWm9pQbT0aL", 3, "ab-_", ".jpg"))
        == "fonts/Zq3k1xWm9pQbT0aL/pages/3-ab-_.jpg"
    )
    assert result_key(result_prefix("f", "j", 2), "woff2") == "fonts/f/builds/j/2/font.woff2"
