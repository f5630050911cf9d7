"""The artifact store on a local (or mounted) directory: atomic writes by rename, streamed reads."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from services.storage.base import CHUNK_BYTES, ArtifactNotFound, StorageFull, StoredArtifact, validate_key

_FULL = (errno.ENOSPC, errno.EDQUOT)


class LocalArtifactStore:
    """Artifacts as files under `root`; writes go to a temporary file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file behind a key; the key is validated first."""
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

    def stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> StoredArtifact:
        """Open an artifact for a download: a missing one raises ArtifactNotFound here, before any byte."""
        try:
            fh = self.path(key).open("rb")
        except FileNotFoundError:
            raise ArtifactNotFound(key) from None
        return StoredArtifact(os.fstat(fh.fileno()).st_size, _chunks(fh, chunk_size))

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


def _chunks(fh: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(chunk_size):
            yield chunk
