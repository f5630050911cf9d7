"""The artifact store: photos, contact sheets, the template and finished fonts, by key.

Keys are made by us (see the *_key functions) and validated anyway, so no key can leave the store:
segments of letters, digits, '-', '_' and '.', separated by '/', never '.' or '..'.
LocalArtifactStore keeps files under one directory; an S3-compatible store only needs the same five methods.

Example:
    store = LocalArtifactStore(Path("var/artifacts"))
    store.put(photo_key("f1", 1, "a1b2", ".jpg"), data)
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")  # never a leading dot


class ArtifactNotFound(KeyError):
    """No artifact is stored under this key."""


class StorageFull(OSError):
    """The store's disk (or quota) is full: the artifact was not stored, and nothing half-written is left."""


_FULL = (errno.ENOSPC, errno.EDQUOT)


def validate_key(key: str) -> str:
    """Return the key when it is safe; raise ValueError otherwise."""
    parts = key.split("/")
    if len(key) > 255 or not all(_SEGMENT.match(p) and ".." not in p for p in parts):
        raise ValueError(f"{key!r} is not a valid artifact key")
    return key


class ArtifactStore(Protocol):
    """What the API and the worker need from a store of files."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> None: ...


class LocalArtifactStore:
    """Artifacts as files under `root`; writes go to a temporary file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file behind a key (for streaming responses); the key is validated first."""
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, whole or not at all; a full disk raises StorageFull."""
        target = self.path(key)
        try:
            self._write(target, data)
        except OSError as exc:
            if exc.errno in _FULL:
                raise StorageFull(f"the artifact store is full: {key} could not be stored") from exc
            raise

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove one artifact; a missing one is not an error (deletes are retried after crashes)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def delete_prefix(self, prefix: str) -> None:
        """Remove every artifact whose key starts with `prefix/` (a whole font, a whole job)."""
        target = self.path(prefix.rstrip("/"))
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            self.delete(prefix)


# --- the keys we make
def font_prefix(font_id: str) -> str:
    return validate_key(f"fonts/{font_id}")


def photo_key(font_id: str, page: int, upload_id: str, suffix: str) -> str:
    return validate_key(f"fonts/{font_id}/pages/{page}-{upload_id}{suffix}")


def sheet_key(font_id: str, page: int, upload_id: str) -> str:
    return validate_key(f"fonts/{font_id}/pages/{page}-{upload_id}-sheet.png")


def result_prefix(font_id: str, job_id: str, attempt: int = 1) -> str:
    """Where one attempt of a build keeps its files: per attempt, so a worker that lost its lease and
    cleans up can never remove the files of the worker that took over."""
    return validate_key(f"fonts/{font_id}/builds/{job_id}/{attempt}")


RESULT_FILES = {"ttf": "font.ttf", "woff2": "font.woff2", "preview": "preview.png"}


def result_key(prefix: str, kind: str) -> str:
    """The key of one finished file ("ttf", "woff2" or "preview") of a build stored under `prefix`."""
    return validate_key(f"{prefix}/{RESULT_FILES[kind]}")


def template_key(version: str) -> str:
    return validate_key(f"template/{version}/template.pdf")
