"""An EventBridge event bus as an async destination (issue 14 item 6): the destination record becomes the
`detail` of an event from source `lambda`, detail-type "Lambda Function Invocation Result - Success" (OnSuccess)
or "- Failure" (OnFailure), resources the bus and the function's qualified ARN, as the recorded
test_lambda_destinations entries show. The bus's matching deliveries are committed before `deliver` returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lamina.invoke.destinations import Delivery, TargetUnavailable

PutOnBus = Callable[[str, str, str, Any, list[str]], bool]  # (bus ARN, source, detail-type, detail, resources)

DETAIL_TYPES = {
    "OnSuccess": "Lambda Function Invocation Result - Success",
    "OnFailure": "Lambda Function Invocation Result - Failure",
}


class EventBusTarget:
    def __init__(self, put: PutOnBus) -> None:
        self._put = put

    async def deliver(self, delivery: Delivery) -> None:
        detail_type = DETAIL_TYPES.get(delivery.purpose)
        if detail_type is None:  # AWS accepts only SQS queues and SNS topics as dead-letter queues
            raise TargetUnavailable(f"an event bus cannot be a {delivery.purpose} target")
        detail = json.loads(delivery.body)
        resources = [delivery.target_arn, delivery.source_arn]
        if not self._put(delivery.target_arn, "lambda", detail_type, detail, resources):
            raise TargetUnavailable(f"event bus {delivery.target_arn} does not exist")
