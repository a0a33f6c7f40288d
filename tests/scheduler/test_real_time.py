"""A rate(1 minute) schedule on the real clock: the Lambda function runs within about 65 s."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.scheduler.conftest import receive, target


@pytest.mark.slow
def test_rate_one_minute_fires_a_lambda_function_in_real_time(
    scheduler: Any, sqs: Any, queue: Any, function_to_queue: Any
) -> None:
    url, arn = queue()
    function_arn = function_to_queue(arn)
    name = f"minute-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(function_arn, Input='{"tick": true}'),
    )
    try:
        messages = receive(sqs, url, timeout=75)
        elapsed = time.monotonic() - started
        assert messages, "the schedule did not fire within 75 s"
        assert json.loads(messages[0]["Body"])["requestPayload"] == {"tick": True}
        assert 55 <= elapsed <= 70, elapsed  # a minute after creation, not before
    finally:
        scheduler.delete_schedule(Name=name)
