"""Run one build job: claim it in the database, build the font, store it, record the outcome (no Kafka here).

The handler is safe to call twice with the same message: only a queued (or abandoned) job can be
claimed, so a finished or already-running job is skipped.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, cast

import cv2
import numpy as np

from services.config import Settings
from services.db import jobs, outbox, queries
from services.db.session import Database, is_outage, utcnow
from services.db.tables import REPACKAGE
from services.pipeline.kept import keep_build, run_repackage
from services.queue.messages import DeadLetter, JobMessage
from services.storage import ArtifactStore, result_key, result_prefix
from services.worker import writer_spacing
from services.worker.policy import REPACKAGE_WEIGHTS, RetryPolicy, StageClock, TimeLimitExceeded

log = logging.getLogger(__name__)


class Builder(Protocol):
    """services.pipeline.flow.build_font, or a stand-in in unit tests."""

    def __call__(
        self,
        glyphs: Mapping[int, np.ndarray],
        workdir: Path,
        family_name: str,
        *,
        options: Any,
        progress: Callable[[str, float], None],
        spacing: Mapping[str, float] | None = None,
    ) -> Any: ...


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # failed; queued again for a later attempt
    FAILED = "failed"  # failed for good (dead letter written)
    SKIPPED = "skipped"  # not ours to run: finished, running elsewhere, deleted, or not due yet
    LOST = "lost"  # the job was taken from us (deleted, or lease lost) while we ran it


class JobLost(RuntimeError):
    """Raised inside the build to stop it: the job is no longer ours."""


def default_builder() -> Builder:
    from services.pipeline.flow import build_font  # torch and friends: only when a job really runs

    return cast(Builder, build_font)


def default_build_options(settings: Settings) -> Any:
    from services.pipeline.flow import BuildOptions

    return BuildOptions(
        finetune_steps=settings.finetune_steps, device=settings.device, base_weights=settings.base_weights
    )


def decode_glyph(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError("a stored glyph image cannot be read")
    return image


@dataclass
class JobHandler:
    """Everything a job needs, passed in: database, artifact store, policy and the font builder."""

    db: Database
    store: ArtifactStore
    settings: Settings
    builder: Builder | None = None
    options: Any = None
    owner: str = ""
    device: str | None = None  # recorded on the job; the builder picks its own when options say nothing
    repackager: Any = None  # services.pipeline.flow.repackage_font, or a stand-in in unit tests

    def __post_init__(self) -> None:
        self.owner = self.owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.policy = RetryPolicy.from_settings(self.settings)
        self.current_job: str | None = None

    def handle(self, message: JobMessage) -> Outcome:
        """Run the job named by the message to one of the outcomes. Database outages propagate."""
        now = utcnow()
        with self.db.session() as session:
            job = jobs.claim_job(
                session,
                message.job_id,
                self.owner,
                self.settings.lease_seconds,
                self.policy.max_attempts,
                now,
            )
            if job is None:
                current = jobs.get_job(session, message.job_id)
                log.info(
                    "job %s skipped: %s",
                    message.job_id,
                    "it no longer exists" if current is None else f"it is {current.state}",
                )
                return Outcome.SKIPPED
            font = queries.get_font(session, job.font_id)
            family = font.name if font else "geulssi"
            params = dict(job.params or {}) if job.kind == REPACKAGE else None
            if params is not None:  # a re-package starts from a finished build's kept files, not the glyphs
                base = jobs.get_job(session, str(params.get("base_job", "")))
                params["base_prefix"] = base.result_prefix if base is not None else None
            pngs = queries.ok_glyph_images(session, job.font_id) if params is None else {}
            line = writer_spacing.line_upload(session, job.font_id) if params is None else None
        log.info(
            "job %s claimed (attempt %d of %d, %d glyphs)",
            job.id,
            job.attempts,
            self.policy.max_attempts,
            len(pngs),
        )
        self.current_job = job.id
        try:
            return self._run(job.id, job.font_id, job.attempts, family, pngs, params, line)
        finally:
            self.current_job = None

    def _run(
        self,
        job_id: str,
        font_id: str,
        attempt: int,
        family: str,
        pngs: dict[int, bytes],
        params: dict[str, Any] | None = None,
        line: tuple[str, str] | None = None,
    ) -> Outcome:
        """Build (or, with `params`, re-package) the font; store its files and what a later fix needs."""
        lease = LeaseKeeper(self, job_id)
        clock = StageClock(REPACKAGE_WEIGHTS if params is not None else None)
        prefix = result_prefix(font_id, job_id, attempt)
        started = time.monotonic()
        last_write = [0.0]

        def progress(stage: str, fraction: float) -> None:
            if lease.lost.is_set():
                raise JobLost(f"job {job_id} was taken away (deleted, or its lease ran out)")
            if time.monotonic() - started > self.policy.time_limit_seconds:
                raise TimeLimitExceeded(
                    f"the build ran past its time limit of {self.policy.time_limit_seconds / 60:.0f} minutes"
                )
            changed = clock.update(stage, fraction)
            if changed or time.monotonic() - last_write[0] >= 1.0:
                last_write[0] = time.monotonic()
                self._record(job_id, clock, lease)

        lease.start()
        try:
            glyphs = {cp: decode_glyph(png) for cp, png in pngs.items()}
            builder = self.builder or default_builder()
            options = self.options if self.options is not None else default_build_options(self.settings)
            with tempfile.TemporaryDirectory(prefix=f"geulssi-{job_id}-", dir=self.settings.work_dir) as tmp:
                if params is None:
                    spacing = writer_spacing.writer_spacing(self.store, line, glyphs, job_id)
                    files = builder(
                        glyphs, Path(tmp), family, options=options, progress=progress, spacing=spacing
                    )
                else:
                    files = run_repackage(
                        self.store,
                        params.get("base_prefix"),
                        Path(tmp),
                        family,
                        params,
                        options=options,
                        progress=progress,
                        repackager=self.repackager,
                    )
                for kind in ("ttf", "woff2", "preview"):
                    self.store.put(result_key(prefix, kind), Path(getattr(files, kind)).read_bytes())
                kept = (getattr(files, "checkpoint", None), getattr(files, "glyph_dir", None))
                keep_build(self.store, prefix, *kept)
            clock.finish(getattr(files, "seconds", None))
            with self.db.session() as session:
                done = jobs.finish_job(session, job_id, self.owner, prefix, clock.timings, utcnow())
            if not done:
                self.store.delete_prefix(prefix)
                log.warning("job %s finished but was no longer ours; its files were removed", job_id)
                return Outcome.LOST
            log.info("job %s succeeded in %.0f s %s", job_id, time.monotonic() - started, clock.timings)
            return Outcome.SUCCEEDED
        except JobLost as exc:
            self.store.delete_prefix(prefix)
            log.warning("%s", exc)
            return Outcome.LOST
        except Exception as exc:
            self.store.delete_prefix(prefix)
            if is_outage(exc):
                raise  # not the job's fault: the consumer retries the message, the lease will expire
            return self._failed(job_id, attempt, exc)
        finally:
            lease.stop()

    def _record(self, job_id: str, clock: StageClock, lease: LeaseKeeper) -> None:
        try:
            with self.db.session() as session:
                ours = jobs.record_progress(
                    session,
                    job_id,
                    self.owner,
                    clock.stage or "",
                    clock.overall,
                    clock.timings,
                    self.device or self.settings.device,
                )
        except Exception as exc:  # a database hiccup must not kill a long build: the lease keeper decides
            if not is_outage(exc):
                raise
            log.warning("could not record progress of job %s: %s", job_id, exc)
            return
        if not ours:
            lease.lost.set()
            raise JobLost(f"job {job_id} was taken away (deleted, or its lease ran out)")

    def _failed(self, job_id: str, attempt: int, exc: Exception) -> Outcome:
        reason = str(exc) or type(exc).__name__
        retry = self.policy.should_retry(exc, attempt)
        retry_at = utcnow() + timedelta(seconds=self.policy.delay(attempt)) if retry else None
        with self.db.session() as session:
            state = jobs.fail_attempt(
                session,
                job_id,
                self.owner,
                reason,
                retry_at=retry_at,
                dead_letter_topic=self.settings.dead_letter_topic,
                now=utcnow(),
            )
        if state is None:
            return Outcome.LOST
        log.log(
            logging.WARNING if retry else logging.ERROR,
            "job %s attempt %d failed (%s): %s",
            job_id,
            attempt,
            "will retry" if retry else "giving up",
            reason,
            exc_info=not isinstance(exc, ValueError | TimeLimitExceeded),
        )
        return Outcome.RETRY if retry else Outcome.FAILED

    def dead_letter(self, reason: str, raw: bytes | None) -> None:
        """Park a payload nobody can read on the dead-letter topic (through the outbox)."""
        text = raw.decode("utf-8", "replace")[:2000] if raw is not None else None
        with self.db.session() as session:
            outbox.add_message(
                session, self.settings.dead_letter_topic, DeadLetter(None, reason, 0, text), utcnow()
            )

    def heartbeat(self, device: str | None) -> None:
        """Record this worker as alive in the workers table."""
        with self.db.session() as session:
            outbox.worker_heartbeat(
                session,
                self.owner,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                device=device,
                job_id=self.current_job,
                now=utcnow(),
            )


class LeaseKeeper:
    """A thread that renews the job's lease every third of its length and flags when the job is gone."""

    def __init__(self, handler: JobHandler, job_id: str) -> None:
        self.handler, self.job_id = handler, job_id
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        seconds = self.handler.settings.lease_seconds
        while not self._stop.wait(seconds / 3):
            try:
                with self.handler.db.session() as session:
                    ours = jobs.renew_lease(session, self.job_id, self.handler.owner, seconds, utcnow())
            except Exception as exc:  # keep trying: the lease outlives a short outage
                log.warning("could not renew the lease of job %s: %s", self.job_id, exc)
                continue
            if not ours:
                self.lost.set()
                return
