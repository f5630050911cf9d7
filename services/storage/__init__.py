"""The artifact store: photos, contact sheets, the template and finished fonts, by key.

Keys are made by us (see services.storage.keys) and validated anyway, so no key can leave the store:
segments of letters, digits, '-', '_' and '.', separated by '/', never '.' or '..'.
Two stores keep the same promises (whole or nothing, clear errors, streamed reads):
LocalArtifactStore (one directory: API and workers on one host) and S3ArtifactStore (any S3-compatible
server: API and workers anywhere). `open_store(settings)` picks one from GEULSSI_STORAGE_URL.

Example:
    store = open_store(get_settings())
    store.put(photo_key("f1", 1, "a1b2", ".jpg"), data)
"""

from services.storage.base import (
    CHUNK_BYTES,
    ArtifactNotFound,
    ArtifactStore,
    StorageFull,
    StorageUnavailable,
    StoredArtifact,
    validate_key,
)
from services.storage.factory import open_store, parse_storage_url
from services.storage.keys import (
    RESULT_FILES,
    font_prefix,
    photo_key,
    result_key,
    result_prefix,
    sheet_key,
    template_key,
)
from services.storage.local import LocalArtifactStore

__all__ = [
    "CHUNK_BYTES",
    "RESULT_FILES",
    "ArtifactNotFound",
    "ArtifactStore",
    "LocalArtifactStore",
    "StorageFull",
    "StorageUnavailable",
    "StoredArtifact",
    "font_prefix",
    "open_store",
    "parse_storage_url",
    "photo_key",
    "result_key",
    "result_prefix",
    "sheet_key",
    "template_key",
    "validate_key",
]
