"""Hands a schedule's fire to its target, with the target's RetryPolicy and DeadLetterConfig.

The target services are reached through small callables passed in by app.py (`Deliver`, one per service
named in the target ARN: `lambda` → the async invoker's `submit_arn`, `sqs` → the SQS engine's send, `sns` →
the SNS engine's publish); each commits durably or raises. A failed attempt is retried with exponential
back-off (1 s doubling, at most 5 min between attempts) until `MaximumRetryAttempts` retries or
`MaximumEventAgeInSeconds` have passed; then, with a DeadLetterConfig, the payload goes to that SQS queue with
AWS's attributes (ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, SCHEDULE_ARN,
TARGET_ARN); without one it is dropped and logged. Retries wait in memory: a restart forgets them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lamina.clock import Clock

log = logging.getLogger(__name__)

Attributes = dict[str, tuple[str, str]]  # message attribute name → (DataType, StringValue)
Deliver = Callable[[str, bytes, Attributes], Awaitable[None]]  # (target ARN, payload, attributes)

DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
_FIRST_BACKOFF = 1.0
_MAX_BACKOFF = 300.0


def service_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 else ""


@dataclass(frozen=True)
class Fire:
    """One invocation of a schedule's target."""

    schedule_arn: str
    target: dict[str, Any]  # the schedule's Target as stored (Arn, Input, RetryPolicy, DeadLetterConfig, ...)
    payload: bytes
    scheduled: float  # when it was due (epoch seconds)


class TargetDelivery:
    def __init__(self, deliver: dict[str, Deliver], clock: Clock) -> None:
        self._deliver = deliver
        self._clock = clock
        self.delivered = 0
        self.failed = 0

    def serves(self, arn: str) -> bool:
        return service_of(arn) in self._deliver

    async def attempt(self, fire: Fire) -> str | None:
        """One attempt; the error's text when it failed."""
        arn = fire.target["Arn"]
        deliver = self._deliver.get(service_of(arn))
        try:
            if deliver is None:
                raise LookupError(f"no target service for {arn}")
            await deliver(arn, fire.payload, {})
        except Exception as exc:
            return str(exc) or type(exc).__name__
        self.delivered += 1
        return None

    async def run(self, fire: Fire, first_error: str) -> None:
        """Retries after a failed first attempt, then dead-letters."""
        policy = {**DEFAULT_RETRY, **(fire.target.get("RetryPolicy") or {})}
        error, retries, backoff = first_error, 0, _FIRST_BACKOFF
        while True:
            age = self._clock.time() - fire.scheduled
            if retries >= policy["MaximumRetryAttempts"]:
                condition = "MaximumRetryAttempts"
                break
            if age + backoff > policy["MaximumEventAgeInSeconds"]:
                condition = "MaximumEventAgeInSeconds"
                break
            await self._clock.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
            retries += 1
            found = await self.attempt(fire)
            if found is None:
                return
            error = found
        self.failed += 1
        await self._dead_letter(fire, error, condition, retries)

    async def _dead_letter(self, fire: Fire, error: str, condition: str, retries: int) -> None:
        dlq = (fire.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            log.error(
                "schedule %s: target %s failed (%s); dropped: %s",
                fire.schedule_arn,
                fire.target["Arn"],
                error,
                fire.payload.decode(errors="replace"),
            )
            return
        attributes: Attributes = {
            "ERROR_CODE": ("String", "TargetUnavailable"),
            "ERROR_MESSAGE": ("String", error[:256]),
            "EXHAUSTED_RETRY_CONDITION": ("String", condition),
            "RETRY_ATTEMPTS": ("String", str(retries)),
            "SCHEDULE_ARN": ("String", fire.schedule_arn),
            "TARGET_ARN": ("String", fire.target["Arn"]),
        }
        deliver = self._deliver.get("sqs")
        try:
            assert deliver is not None
            await deliver(dlq, fire.payload, attributes)
        except Exception as exc:
            log.error(
                "schedule %s: dead-letter queue %s refused (%s); dropped: %s",
                fire.schedule_arn,
                dlq,
                exc,
                fire.payload.decode(errors="replace"),
            )
