"""A rate(1 minute) schedule on the real clock: the Lambda function runs at once (no StartDate: AWS invokes
immediately), then again a minute later, within about 65 s."""

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
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(function_arn, Input='{"tick": true}'),
    )
    try:
        first = receive(sqs, url, timeout=30)
        assert len(first) == 1, "the schedule did not fire at creation"
        started = time.monotonic()
        assert json.loads(first[0]["Body"])["requestPayload"] == {"tick": True}
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        second = receive(sqs, url, timeout=75)
        elapsed = time.monotonic() - started
        assert len(second) == 1, "the schedule did not fire again within 75 s"
        assert json.loads(second[0]["Body"])["requestPayload"] == {"tick": True}
        assert 50 <= elapsed <= 65, elapsed  # a minute later, not before
    finally:
        scheduler.delete_schedule(Name=name)
