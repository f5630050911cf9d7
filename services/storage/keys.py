"""The artifact keys we make: one function per kind of file, every key validated."""

from __future__ import annotations

from services.storage.base import validate_key

RESULT_FILES = {"ttf": "font.ttf", "woff2": "font.woff2", "preview": "preview.png"}


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


def result_key(prefix: str, kind: str) -> str:
    """The key of one finished file ("ttf", "woff2" or "preview") of a build stored under `prefix`."""
    return validate_key(f"{prefix}/{RESULT_FILES[kind]}")


def template_key(version: str) -> str:
    return validate_key(f"template/{version}/template.pdf")
