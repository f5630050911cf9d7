"""Job policy: retry decisions and backoff, and how stage reports add up to overall progress."""

from __future__ import annotations

import pytest

from services.config import Settings
from services.worker.policy import STAGE_WEIGHTS, RetryPolicy, StageClock, TimeLimitExceeded


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_seconds=10, backoff_max_seconds=35, time_limit_seconds=60)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [10, 20, 35, 35]


def test_bad_input_is_never_retried_and_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_seconds=1, backoff_max_seconds=1, time_limit_seconds=60)
    assert policy.should_retry(RuntimeError("CUDA out of memory"), 1)
    assert policy.should_retry(RuntimeError("again"), 2)
    assert not policy.should_retry(RuntimeError("third time"), 3)
    assert not policy.should_retry(ValueError("not enough glyphs"), 1)
    assert not policy.should_retry(TimeLimitExceeded("ran 3 hours"), 1)


def test_policy_comes_from_settings() -> None:
    settings = Settings(
        max_attempts=0, retry_backoff_seconds=2, retry_backoff_max_seconds=9, job_time_limit_seconds=77
    )
    policy = RetryPolicy.from_settings(settings)
    assert policy.max_attempts == 1  # at least one attempt, whatever the setting says
    assert (policy.backoff_seconds, policy.backoff_max_seconds, policy.time_limit_seconds) == (2, 9, 77)


def test_progress_rises_through_the_stages_and_ends_at_one() -> None:
    clock = StageClock()
    seen = []
    for stage in STAGE_WEIGHTS:
        for fraction in (0.0, 0.5, 1.0):
            clock.update(stage, fraction)
            seen.append(clock.overall)
    assert seen == sorted(seen)
    assert seen[0] == 0.0
    assert seen[-1] == pytest.approx(1.0)
    clock.update("finetune", 2.0)  # out-of-range fractions are clamped, not trusted
    assert 0.0 <= clock.overall <= 1.0


def test_halfway_through_generate_counts_finetune_as_done() -> None:
    clock = StageClock()
    clock.update("generate", 0.5)  # a builder may skip reporting a stage
    expected = (STAGE_WEIGHTS["finetune"] + STAGE_WEIGHTS["generate"] / 2) / sum(STAGE_WEIGHTS.values())
    assert clock.overall == pytest.approx(expected, abs=1e-4)


def test_timings_are_recorded_per_stage() -> None:
    clock = StageClock()
    assert clock.update("finetune", 0.1) is True
    assert clock.update("finetune", 0.2) is False
    assert clock.update("generate", 0.0) is True
    clock.finish()
    assert set(clock.timings) == {"finetune", "generate"}
    assert all(seconds >= 0 for seconds in clock.timings.values())


def test_late_reports_for_finished_stages_change_nothing() -> None:
    clock = StageClock()
    clock.update("finetune", 1.0)
    clock.update("trace", 0.5)
    clock.update("package", 0.95)
    before = (clock.overall, dict(clock.timings), clock.stage)
    assert clock.update("trace", 1.0) is False  # a builder closing its stages at the end
    assert clock.update("finetune", 1.0) is False
    assert (clock.overall, clock.stage) == (before[0], before[2])
    clock.finish({"finetune": 412.5, "trace": 33.0, "bogus": -1})
    assert (
        clock.timings["finetune"] == 412.5 and clock.timings["trace"] == 33.0 and "bogus" not in clock.timings
    )
