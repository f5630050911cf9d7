"""The artifact store on any S3-compatible server (MinIO, AWS S3, moto): workers on any host share it.

Each artifact is one object, written by one PUT: S3 makes it visible whole or not at all, so nothing
half-written can be read (no multipart uploads: our artifacts, photos, fonts and a build's kept
checkpoint, are megabytes to tens of megabytes, far below S3's 5 GB single-PUT limit). Errors become
the local store's: ArtifactNotFound, StorageFull (MinIO's "storage full", a quota) and StorageUnavailable
(unreachable, refused, no bucket).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

from services.storage.base import (
    CHUNK_BYTES,
    ArtifactNotFound,
    StorageFull,
    StorageUnavailable,
    StoredArtifact,
    validate_key,
)

log = logging.getLogger(__name__)

_MISSING = {"NoSuchKey", "404", "NotFound"}
_FULL = {"XMinioStorageFull", "QuotaExceeded", "XMinioAdminBucketQuotaExceeded", "InsufficientStorage"}
_REFUSED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}


class S3ArtifactStore:
    """Artifacts as objects `prefix/key` in one bucket of an S3-compatible server."""

    batch = 1000  # keys per listing page and per DeleteObjects call (S3's maximum for both)

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        attempts: int = 3,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = validate_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.where = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            # MinIO and moto serve buckets as paths (http://host:9000/bucket/key), not as host names.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
            config=config,
        )

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` in one PUT: whole or not at all."""
        name = self._name(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data)
        except (BotoCoreError, ClientError) as exc:
            self._raise(exc, key, f"{key} could not be stored")

    def get(self, key: str) -> bytes:
        artifact = self.stream(key)
        return b"".join(artifact.chunks)

    def stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> StoredArtifact:
        """Open an artifact for a download: a missing one raises ArtifactNotFound here, before any byte."""
        name = self._name(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            self._raise(exc, key, f"{key} could not be read")
        return StoredArtifact(int(answer["ContentLength"]), self._chunks(answer["Body"], key, chunk_size))

    def _chunks(self, body: Any, key: str, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(chunk_size)
        except (BotoCoreError, ClientError) as exc:  # the connection broke in the middle of the object
            self._raise(exc, key, f"{key} could not be read to the end")
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in _MISSING:
                return False
            self._raise(exc, key, f"{key} could not be looked up")
        return True

    def delete(self, key: str) -> None:
        """Remove one artifact; a missing one is not an error (S3 deletes are idempotent)."""
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            self._raise(exc, key, f"{key} could not be deleted")

    def delete_prefix(self, prefix: str) -> None:
        """Remove the artifact `prefix` and every artifact whose key starts with `prefix/`."""
        prefix = prefix.rstrip("/")
        base = self._name(prefix)
        try:
            names = [base]
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base + "/", PaginationConfig={"PageSize": self.batch}
            ):
                names.extend(item["Key"] for item in page.get("Contents", []))
            for start in range(0, len(names), self.batch):
                batch = [{"Key": n} for n in names[start : start + self.batch]]
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise StorageUnavailable(
                        f"the artifact store {self.where} did not delete {len(answer['Errors'])} files "
                        f"under {prefix} (first: {first.get('Key')}: {first.get('Message')})"
                    )
        except (BotoCoreError, ClientError) as exc:
            self._raise(exc, prefix, f"the files under {prefix} could not be deleted")

    def _raise(self, exc: BotoCoreError | ClientError, key: str, what: str) -> NoReturn:
        """Turn a client error into ArtifactNotFound, StorageFull or StorageUnavailable (a bug re-raises)."""
        code = _code(exc)
        status = _status(exc)
        if code in _MISSING:
            raise ArtifactNotFound(key) from None
        if code in _FULL or status == 507:
            raise StorageFull(f"the artifact store {self.where} is full: {what}") from exc
        if code == "NoSuchBucket":
            raise StorageUnavailable(
                f"the artifact store {self.where} has no bucket {self.bucket!r}; create it: {what}"
            ) from exc
        if code in _REFUSED or status == 403:
            raise StorageUnavailable(
                f"the artifact store {self.where} refused our credentials ({code}): {what}"
            ) from exc
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            raise StorageUnavailable(
                f"no credentials for the artifact store {self.where} (set GEULSSI_S3_ACCESS_KEY_ID and "
                f"GEULSSI_S3_SECRET_ACCESS_KEY): {what}"
            ) from exc
        if isinstance(exc, BotoCoreError) or status >= 500:
            raise StorageUnavailable(
                f"the artifact store {self.where} cannot be reached ({exc}): {what}"
            ) from exc
        raise exc


def _code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def _status(exc: Exception) -> int:
    if not isinstance(exc, ClientError):
        return 0
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
