"""A Lambda function as a destination: the record becomes the event of an asynchronous invoke of the
target (spec §3 "Lambda → record is the event"), so it enters the same durable queue and retry rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lamina.invoke.destinations import Delivery

# (function ARN, payload, X-Ray trace header or None): durable when it returns
Enqueue = Callable[[str, bytes, str | None], Awaitable[None]]


class LambdaFunctionTarget:
    def __init__(self, enqueue: Enqueue) -> None:
        self._enqueue = enqueue

    async def deliver(self, delivery: Delivery) -> None:
        await self._enqueue(delivery.target_arn, delivery.body, delivery.trace_header)
