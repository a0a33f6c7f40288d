"""Hands a schedule's fire to its target, with the target's RetryPolicy and DeadLetterConfig.

The target services are reached through small callables passed in by app.py (`Deliver`, one per service
named in the target ARN: `lambda` → the async invoker's `submit_arn`, `sqs` → the SQS engine's send, `sns` →
the SNS engine's publish); each commits durably or raises. A failed attempt is retried with exponential
back-off (1 s doubling, at most 5 min between attempts) until `MaximumRetryAttempts` retries or
`MaximumEventAgeInSeconds` have passed; then, with a DeadLetterConfig, the payload goes to that SQS queue with
AWS's attributes (ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, SCHEDULE_ARN,
TARGET_ARN); without one it is dropped and logged.

A fire waiting for a retry is a document (`scheduler-retry`: the fire, its retry count and last error),
written before the wait and deleted once delivered or dead-lettered, so a restart (or kill -9) resumes it
instead of losing it; a retry in flight at a crash may be delivered twice (at least once, as AWS).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lamina.clock import Clock
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

Attributes = dict[str, tuple[str, str]]  # message attribute name → (DataType, StringValue)
Deliver = Callable[[str, bytes, Attributes], Awaitable[None]]  # (target ARN, payload, attributes)

DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
RETRY_KIND = "scheduler-retry"
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


@dataclass(frozen=True)
class Pending:
    """A fire waiting for its next retry, as stored."""

    key: str
    fire: Fire
    error: str
    retries: int


class TargetDelivery:
    def __init__(self, deliver: dict[str, Deliver], clock: Clock, store: DocumentStore) -> None:
        self._deliver = deliver
        self._clock = clock
        self._store = store
        self.delivered = 0
        self.failed = 0

    def pending(self) -> list[Pending]:
        """The retries a stop or crash interrupted."""
        found = []
        for key, doc in self._store.load(RETRY_KIND).items():
            fire = Fire(doc["schedule"], doc["target"], doc["payload"].encode(), doc["scheduled"])
            found.append(Pending(key, fire, doc["error"], doc["retries"]))
        return found

    def _remember(self, key: str, fire: Fire, error: str, retries: int) -> None:
        doc = {
            "schedule": fire.schedule_arn,
            "target": fire.target,
            "payload": fire.payload.decode("utf-8", "replace"),
            "scheduled": fire.scheduled,
            "error": error,
            "retries": retries,
        }
        self._store.put(RETRY_KIND, key, doc)

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

    async def run(self, fire: Fire, first_error: str, key: str | None = None, retries: int = 0) -> None:
        """Retries after a failed attempt (`retries` made so far), then dead-letters."""
        key = key or str(uuid.uuid4())
        policy = {**DEFAULT_RETRY, **(fire.target.get("RetryPolicy") or {})}
        error, backoff = first_error, min(_FIRST_BACKOFF * 2**retries, _MAX_BACKOFF)
        await self._retry(key, fire, error, retries, backoff, policy)

    async def _retry(
        self, key: str, fire: Fire, error: str, retries: int, backoff: float, policy: dict[str, int]
    ) -> None:
        while True:
            age = self._clock.time() - fire.scheduled
            if retries >= policy["MaximumRetryAttempts"]:
                condition = "MaximumRetryAttempts"
                break
            if age + backoff > policy["MaximumEventAgeInSeconds"]:
                condition = "MaximumEventAgeInSeconds"
                break
            self._remember(key, fire, error, retries)
            await self._clock.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
            retries += 1
            found = await self.attempt(fire)
            if found is None:
                self._store.delete(RETRY_KIND, key)
                return
            error = found
        self.failed += 1
        await self._dead_letter(fire, error, condition, retries)
        self._store.delete(RETRY_KIND, key)

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
