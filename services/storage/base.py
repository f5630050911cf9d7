"""What every artifact store shares: the interface, its errors, and the rule for a safe key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")  # never a leading dot
CHUNK_BYTES = 1024 * 1024  # how much of an artifact a download holds in memory at a time


class ArtifactNotFound(KeyError):
    """No artifact is stored under this key."""


class StorageFull(OSError):
    """The store's disk (or quota) is full: the artifact was not stored, and nothing half-written is left."""


class StorageUnavailable(ConnectionError):
    """The store cannot be reached (or refuses us) right now: nothing was stored or read; try again later."""


def validate_key(key: str) -> str:
    """Return the key when it is safe; raise ValueError otherwise."""
    parts = key.split("/")
    if len(key) > 255 or not all(_SEGMENT.match(p) and ".." not in p for p in parts):
        raise ValueError(f"{key!r} is not a valid artifact key")
    return key


@dataclass
class StoredArtifact:
    """An artifact opened for reading: its size in bytes and its content, chunk by chunk (read once)."""

    size: int
    chunks: Iterator[bytes]


class ArtifactStore(Protocol):
    """What the API and the worker need from a store of files."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> StoredArtifact: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> None: ...
