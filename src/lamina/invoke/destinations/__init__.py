"""Where async outcomes go: on-success / on-failure destinations and the legacy dead-letter queue.

`Destinations` picks a `Target` by the service in the destination ARN (`arn:aws:<service>:…`); adding a
target kind is one small module with a `deliver` method, registered under its service name. Lambda
functions are served now (`lambda_function`); SQS queues, SNS topics, EventBridge buses and S3 buckets
arrive with their services, and until then `unavailable.UnavailableTarget` refuses them.

Invariant: a delivery never raises into the caller. One that fails is counted per service and logged at
ERROR with the whole message body (the record carries the original event, the DLQ message is the event),
so an event whose outcome could not be delivered is never lost silently.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message for one target. `purpose` is OnSuccess, OnFailure, DeadLetter (or EventBridge for a rule's
    target); `attributes` are message attributes as (DataType, StringValue) (the DLQ's RequestID / ErrorCode /
    ErrorMessage)."""

    target_arn: str
    body: bytes
    purpose: str
    source_arn: str  # the qualified ARN of the function whose outcome this is
    request_id: str
    attributes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # For a FIFO queue (EventBridge targets with SqsParameters only; Lambda refuses FIFO destinations):
    # the message group, and the deduplication id (the event's id).
    group_id: str | None = None
    # The X-Ray trace the outcome belongs to (Root, the invocation's segment as Parent, Sampled): SQS keeps it as
    # the message's AWSTraceHeader, SNS and Lambda hand it on, so the trace goes on through the destination.
    trace_header: str | None = None


class Target(Protocol):
    async def deliver(self, delivery: Delivery) -> None:
        """Hands the message over durably, or raises."""


class TargetUnavailable(Exception):
    """The destination's service is not served (yet), or the destination does not exist."""


def service_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


class Destinations:
    def __init__(self, targets: dict[str, Target]) -> None:
        self._targets = dict(targets)
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def register(self, service: str, target: Target) -> None:
        self._targets[service] = target

    async def deliver(self, delivery: Delivery) -> bool:
        service = service_of(delivery.target_arn)
        target = self._targets.get(service)
        try:
            if target is None:
                raise TargetUnavailable(f"no destination target for service {service!r}")
            await target.deliver(delivery)
        except Exception as exc:
            self.failed[service] += 1
            log.error(
                "%s of %s (request %s) could not be delivered to %s: %s; the message was: %s",
                delivery.purpose,
                delivery.source_arn,
                delivery.request_id,
                delivery.target_arn,
                exc,
                delivery.body.decode(errors="replace"),
            )
            return False
        self.delivered[service] += 1
        return True
