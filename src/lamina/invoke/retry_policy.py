"""Lambda's retry rules for asynchronous invocations, in one place (spec: invoke-and-runtime.md §3).

Pure functions of the event's history and the time: no I/O, no clock of their own, so every rule is tested
in virtual time. Settings resolve per qualifier's event invoke config, then the function's, then defaults
(`lamina.functions.event_invoke_config`). Delays carry no jitter, so tests can state them exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_MAX_RETRY_ATTEMPTS = 2  # lambda-api.md §11: MaximumRetryAttempts 0-2, default 2 (3 attempts)
DEFAULT_MAX_EVENT_AGE_S = 21_600  # lambda-api.md §11: MaximumEventAgeInSeconds 60-21600, default 6 h
FUNCTION_ERROR_DELAYS = (60.0, 120.0)  # §3: ~1 minute before the 2nd attempt, ~2 minutes before the 3rd
THROTTLE_FIRST_DELAY = 1.0  # §3: back-off grows from 1 s after the first attempt ...
THROTTLE_MAX_DELAY = 300.0  # ... to at most 5 minutes


class Outcome(enum.Enum):
    SUCCESS = "success"
    FUNCTION_ERROR = "function-error"  # exception, timeout, OOM, runtime exit: the function ran
    THROTTLED = "throttled"  # no capacity (429): the function did not run
    SYSTEM_ERROR = "system-error"  # Lamina failed (5xx): the function did not run


class Condition(enum.StrEnum):
    """`requestContext.condition` of a destination record (§3)."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"


@dataclass(frozen=True)
class RetrySettings:
    max_retry_attempts: int = DEFAULT_MAX_RETRY_ATTEMPTS
    max_event_age_s: float = DEFAULT_MAX_EVENT_AGE_S


@dataclass(frozen=True)
class Decision:
    """Either try again at `retry_at`, or the outcome is final with `condition`."""

    retry_at: float | None = None
    condition: Condition | None = None


def before_attempt(
    settings: RetrySettings, enqueued_at: float, now: float, reserved_concurrency: int | None
) -> Condition | None:
    """A reason to skip the attempt and go straight to the failure path, or None to run it."""
    if reserved_concurrency == 0:
        # lambda-api.md §10 / §3: reserved concurrency 0 → straight to DLQ / on-failure, no retries.
        return Condition.RETRIES_EXHAUSTED
    if now - enqueued_at > settings.max_event_age_s:
        return Condition.EVENT_AGE_EXCEEDED  # §3: an event older than its maximum age is discarded
    return None


def throttle_delay(throttles: int) -> float:
    """§3: 1 s after the first throttle, doubling, capped at 5 minutes."""
    return min(THROTTLE_FIRST_DELAY * 2.0 ** max(throttles - 1, 0), THROTTLE_MAX_DELAY)


def after_attempt(
    settings: RetrySettings, outcome: Outcome, enqueued_at: float, now: float, attempts: int, throttles: int
) -> Decision:
    """What follows an attempt. `attempts` counts function runs so far, `throttles` refused attempts so far,
    both including this one."""
    if outcome is Outcome.SUCCESS:
        return Decision(condition=Condition.SUCCESS)
    if outcome is Outcome.FUNCTION_ERROR:
        # §3: function errors are retried MaximumRetryAttempts times, then RetriesExhausted.
        if attempts > settings.max_retry_attempts:
            return Decision(condition=Condition.RETRIES_EXHAUSTED)
        delay = FUNCTION_ERROR_DELAYS[min(attempts, len(FUNCTION_ERROR_DELAYS)) - 1]
    else:
        # §3: throttles and system errors go back to the queue with back-off, bounded only by the event's age.
        delay = throttle_delay(throttles)
    retry_at = now + delay
    if retry_at - enqueued_at >= settings.max_event_age_s:
        # §3: the retry would come at or after its maximum age (the recorded test_maxeventage: age 60 with
        # ~60 s retry spacing gives EventAgeExceeded after one attempt).
        return Decision(condition=Condition.EVENT_AGE_EXCEEDED)
    return Decision(retry_at=retry_at)
