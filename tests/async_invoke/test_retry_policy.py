"""The retry policy as pure rules (spec invoke-and-runtime.md §3)."""

from __future__ import annotations

from lamina.invoke.retry_policy import (
    Condition,
    Decision,
    Outcome,
    RetrySettings,
    after_attempt,
    before_attempt,
    throttle_delay,
)

DEFAULTS = RetrySettings()


def test_function_errors_one_then_two_minutes_then_exhausted() -> None:
    assert after_attempt(DEFAULTS, Outcome.FUNCTION_ERROR, 0.0, 0.0, 1, 0) == Decision(retry_at=60.0)
    assert after_attempt(DEFAULTS, Outcome.FUNCTION_ERROR, 0.0, 60.0, 2, 0) == Decision(retry_at=180.0)
    exhausted = after_attempt(DEFAULTS, Outcome.FUNCTION_ERROR, 0.0, 180.0, 3, 0)
    assert exhausted == Decision(condition=Condition.RETRIES_EXHAUSTED)


def test_throttle_back_off_doubles_to_five_minutes() -> None:
    assert [throttle_delay(n) for n in (1, 2, 3, 9, 10, 50)] == [1.0, 2.0, 4.0, 256.0, 300.0, 300.0]
    assert after_attempt(DEFAULTS, Outcome.SYSTEM_ERROR, 0.0, 10.0, 0, 3) == Decision(retry_at=14.0)


def test_age_bounds_every_retry() -> None:
    short = RetrySettings(max_retry_attempts=2, max_event_age_s=60)
    assert after_attempt(short, Outcome.FUNCTION_ERROR, 0.0, 0.0, 1, 0).condition is Condition.EVENT_AGE_EXCEEDED
    assert after_attempt(short, Outcome.THROTTLED, 0.0, 59.0, 0, 1).condition is Condition.EVENT_AGE_EXCEEDED
    assert before_attempt(DEFAULTS, 0.0, 21_600.5, None) is Condition.EVENT_AGE_EXCEEDED
    assert before_attempt(DEFAULTS, 0.0, 21_599.0, None) is None


def test_reserved_concurrency_zero_and_success() -> None:
    assert before_attempt(DEFAULTS, 0.0, 0.0, 0) is Condition.RETRIES_EXHAUSTED
    assert before_attempt(DEFAULTS, 0.0, 0.0, 5) is None
    assert after_attempt(DEFAULTS, Outcome.SUCCESS, 0.0, 0.0, 1, 0) == Decision(condition=Condition.SUCCESS)
