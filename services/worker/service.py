"""A whole worker wired together: topics, outbox relay, handler and Kafka loop, startable and stoppable.

Used by `geulssi worker` (its own process) and `geulssi serve` (a thread beside the API).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from services.config import Settings
from services.db.session import Database
from services.queue.relay import OutboxRelay, ensure_job_topics
from services.storage import ArtifactStore
from services.worker.consumer import WorkerLoop
from services.worker.handler import Builder, JobHandler

log = logging.getLogger(__name__)


def detect_device(settings: Settings) -> str:
    """The torch device builds will use: the configured one, else CUDA when present, else CPU."""
    if settings.device:
        return settings.device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def describe_device(device: str) -> str:
    """What the operator page shows for a torch device: the GPU model for CUDA ("cuda: NVIDIA H200"),
    else the device itself ("cpu", "mps"). At most 64 characters (the workers.device column)."""
    if not device.startswith("cuda"):
        return device[:64]
    try:
        import torch

        index = torch.device(device).index
        name = torch.cuda.get_device_name(index if index is not None else torch.cuda.current_device())
    except Exception as exc:  # no driver, or a bad index: the build will say so; the label stays plain
        log.debug("could not read the GPU name: %s", exc)
        return device[:64]
    return f"{device}: {name}"[:64]


@dataclass
class WorkerService:
    """One consumer in the workers' group plus (optionally) an outbox relay."""

    settings: Settings
    db: Database
    store: ArtifactStore
    builder: Builder | None = None
    options: Any = None
    with_relay: bool = True
    consumer: Any = None
    handler: JobHandler = field(init=False)
    loop: WorkerLoop = field(init=False)

    def __post_init__(self) -> None:
        self.device: str | None = None  # found in the loop thread: importing torch takes seconds
        self.handler = JobHandler(
            self.db, self.store, self.settings, builder=self.builder, options=self.options
        )
        self.loop = WorkerLoop(self.settings, self.handler, consumer=self.consumer)
        self.relay = OutboxRelay(self.db, self.settings) if self.with_relay else None
        self._thread: threading.Thread | None = None

    def start(self) -> WorkerService:
        """Start the relay and the loop in daemon threads (the loop waits for Kafka if it is not up yet)."""
        if not self.settings.kafka_servers:
            raise ValueError("no Kafka broker configured: set GEULSSI_KAFKA_BOOTSTRAP_SERVERS")
        if self.relay:
            self.relay.start()
        self._thread = threading.Thread(target=self._run, name="worker-loop", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        # Recorded on the worker row and on each job; builds pick their torch device from the settings.
        self.device = self.loop.device = self.handler.device = describe_device(detect_device(self.settings))
        log.info("worker %s starting; builds use %s", self.handler.owner, self.device)
        failures = 0
        while not self.loop.stopping.is_set():
            try:
                ensure_job_topics(self.settings)
                self.loop.run()
            except Exception as exc:  # Kafka away (at start or later): wait and connect again
                failures += 1
                log.warning("worker loop stopped (%s); reconnecting in %d s", exc, min(5 * failures, 60))
                self.loop.consumer = self.consumer  # a fresh client next time, unless one was given
                self.loop.stopping.wait(min(5 * failures, 60))
            else:
                failures = 0

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling (a job in progress is abandoned to its lease) and stop the relay."""
        self.loop.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.relay:
            self.relay.stop()

    def wait(self) -> None:
        """Block until the loop ends (it ends on stop() or a fatal error)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)
