"""The writer's spacing for a build: the writing line read again from its page's stored upload."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
from sqlalchemy.orm import Session

from services.db import queries
from services.storage import ArtifactStore

log = logging.getLogger(__name__)


def line_upload(session: Session, font_id: str) -> tuple[str, str] | None:
    """(artifact key, file name) of the stored upload of the page that carries the writing line."""
    from services.pipeline.line_spacing import line_page  # the OpenCV pipeline: only when a job runs

    number = line_page()
    page = queries.get_page(session, font_id, number) if number is not None else None
    return (page.photo_key, page.photo_name) if page is not None else None


def writer_spacing(
    store: ArtifactStore, upload: tuple[str, str] | None, glyphs: Mapping[int, np.ndarray], job_id: str
) -> dict[str, float] | None:
    """{"gap", "space"} measured on the writing line, or None for the default spacing (no line uploaded,
    nothing measurable on it, or the upload cannot be read: spacing has a default, so a build never fails
    for it)."""
    if upload is None:
        log.info("job %s: the writing line's page was not uploaded; default spacing", job_id)
        return None
    from services.extraction.results import measured_spacing
    from services.pipeline.line_spacing import spacing_from_upload

    key, name = upload
    try:
        entry = spacing_from_upload(store.get(key), name, glyphs)
    except Exception:  # spacing has a default (see the docstring)
        log.warning("job %s: the writing line could not be read; default spacing", job_id, exc_info=True)
        return None
    log.info("job %s: %s", job_id, entry.get("message"))
    return measured_spacing(entry)
