"""Pick the artifact store from the settings: a local directory, or S3 when GEULSSI_STORAGE_URL says so."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.config import Settings
from services.storage.base import ArtifactStore, validate_key
from services.storage.local import LocalArtifactStore

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_storage_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); anything else raises ValueError."""
    parts = urlsplit(url.strip())
    prefix = parts.path.strip("/")
    hint = "GEULSSI_STORAGE_URL must look like s3://bucket or s3://bucket/prefix (empty: a local folder)"
    if parts.scheme != "s3" or not _BUCKET.match(parts.netloc) or parts.query or parts.fragment:
        raise ValueError(f"{hint}, not {url!r}")
    if prefix:
        try:
            validate_key(prefix)
        except ValueError:
            raise ValueError(f"{hint}; the prefix {prefix!r} has characters a key may not have") from None
    return parts.netloc, prefix


def open_store(settings: Settings) -> ArtifactStore:
    """The store the settings name: S3 for an s3:// GEULSSI_STORAGE_URL, else the GEULSSI_STORAGE_DIR."""
    if not settings.storage_url.strip():
        return LocalArtifactStore(settings.storage_dir)
    bucket, prefix = parse_storage_url(settings.storage_url)
    from services.storage.s3 import S3ArtifactStore  # boto3 loads only when S3 is used

    secret = settings.s3_secret_access_key.get_secret_value()
    return S3ArtifactStore(
        bucket,
        prefix,
        endpoint_url=settings.s3_endpoint_url or None,
        access_key_id=settings.s3_access_key_id or None,
        secret_access_key=secret or None,
        region=settings.s3_region or None,
    )
