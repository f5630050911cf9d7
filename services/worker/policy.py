"""Job policy in one place: retries, backoff and the time limit; and how stage reports add up to progress."""

from __future__ import annotations

import time
from dataclasses import dataclass

from services.config import Settings


class TimeLimitExceeded(RuntimeError):
    """The build ran past the job time limit (checked whenever the builder reports progress)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff. Bad input (ValueError) and builds that ran out of time are not
    retried: they would fail again the same way."""

    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    time_limit_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=max(1, settings.max_attempts),
            backoff_seconds=settings.retry_backoff_seconds,
            backoff_max_seconds=settings.retry_backoff_max_seconds,
            time_limit_seconds=settings.job_time_limit_seconds,
        )

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether a build that failed with `exc` on attempt number `attempt` (1-based) gets another go."""
        if isinstance(exc, ValueError | TimeLimitExceeded):
            return False
        return attempt < self.max_attempts

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt`: backoff, doubling, capped."""
        return float(min(self.backoff_seconds * 2 ** max(attempt - 1, 0), self.backoff_max_seconds))


# Share of a typical build's wall time per stage (fine-tuning dominates); used only for the progress bar.
STAGE_WEIGHTS: dict[str, float] = {
    "finetune": 0.60,
    "generate": 0.20,
    "trace": 0.12,
    "normalize": 0.04,
    "package": 0.04,
}
# The same for a re-package (marked syllables redrawn, then traced and packaged again; no fine-tune).
REPACKAGE_WEIGHTS: dict[str, float] = {"redraw": 0.1, "package": 0.9}


class StageClock:
    """Tracks the current stage, when each stage started and how long each one took (seconds)."""

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = weights or STAGE_WEIGHTS
        self._now = time.monotonic
        self.stage: str | None = None
        self.fraction = 0.0
        self.timings: dict[str, float] = {}
        self._stage_started = self._now()
        self._done: list[str] = []

    def update(self, stage: str, fraction: float) -> bool:
        """Record a report; True when it starts a new stage.

        Stages only move forward: a late report for a stage already left (a builder may close its stages
        at the end) changes nothing, so neither the progress bar nor a stage's time goes backwards.
        """
        fraction = min(max(float(fraction), 0.0), 1.0)
        if stage in self._done and stage != self.stage:
            return False
        order = list(self.weights)
        if stage in order and self.stage in order and order.index(stage) < order.index(self.stage):
            return False
        changed = stage != self.stage
        if changed:
            self._close()
            self.stage, self._stage_started = stage, self._now()
        self.fraction = fraction
        self.timings[stage] = round(self._now() - self._stage_started, 3)
        return changed

    def finish(self, seconds: dict[str, float] | None = None) -> None:
        """Close the last stage's timing; the builder's own per-stage seconds, when given, win."""
        self._close()
        self.stage = None
        for stage, value in (seconds or {}).items():
            if isinstance(value, int | float) and value >= 0:
                self.timings[stage] = round(float(value), 3)

    def _close(self) -> None:
        if self.stage is not None:
            self.timings[self.stage] = round(self._now() - self._stage_started, 3)
            if self.stage not in self._done:
                self._done.append(self.stage)

    @property
    def overall(self) -> float:
        """Progress of the whole build, 0..1: finished stages plus the current one's fraction."""
        if self.stage not in self.weights:
            return 1.0 if self.stage is None and self._done else 0.0
        # Stages come in order, so every stage before the current one is done even if it never
        # reported (a builder may skip one).
        order = list(self.weights)
        done = sum(self.weights[s] for s in order[: order.index(self.stage)])
        current = self.weights[self.stage] * self.fraction
        return round(min((done + current) / sum(self.weights.values()), 1.0), 4)
