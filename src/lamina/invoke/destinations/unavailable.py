"""Targets of services Lamina does not serve yet (SQS, SNS, EventBridge, S3: issue 6). They refuse every
delivery with a clear reason; `Destinations` counts and logs the message, so nothing is dropped silently."""

from __future__ import annotations

from lamina.invoke.destinations import Delivery, TargetUnavailable

SERVICES = {"sqs": "SQS", "sns": "SNS", "events": "EventBridge", "s3": "S3"}


class UnavailableTarget:
    def __init__(self, service: str) -> None:
        self.name = SERVICES.get(service, service)

    async def deliver(self, delivery: Delivery) -> None:
        raise TargetUnavailable(
            f"{self.name} destinations need the {self.name} service, which Lamina does not serve yet"
        )
