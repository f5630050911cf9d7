"""The local artifact store: keys are validated, writes are atomic, prefixes delete whole trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.storage import (
    ArtifactNotFound,
    LocalArtifactStore,
    photo_key,
    result_key,
    result_prefix,
    validate_key,
)


def test_put_get_exists_delete(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
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


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put("fonts/a/x.bin", b"1" * 10_000)
    files = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert files == ["x.bin"]


def test_delete_prefix_removes_a_whole_font(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    prefix = result_prefix("fontA", "job1")
    store.put(result_key(prefix, "ttf"), b"ttf")
    store.put(photo_key("fontA", 1, "u", ".png"), b"png")
    store.put(photo_key("fontB", 1, "u", ".png"), b"other font")
    store.delete_prefix("fonts/fontA")
    assert not store.exists(result_key(prefix, "ttf"))
    assert not store.exists(photo_key("fontA", 1, "u", ".png"))
    assert store.get(photo_key("fontB", 1, "u", ".png")) == b"other font"


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/abs/path", "a//b", ".hidden", "a/../b", "a/./b", "a\\b", "", "a/b/", "fonts/a b"],
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(ValueError, match="not a valid artifact key"):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        validate_key(key)


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
