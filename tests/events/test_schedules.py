"""A `rate(1 minute)` rule firing in real time through a real server, compared with the recorded
tests_schedule_rate_target_sqs messages (the virtual-time cases are in test_units.py)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

RECORDED = (
    Path(__file__).parents[1] / "conformance" / "aws-recorded" / "services__events__test_events_schedule.snapshot.json"
)


@pytest.mark.slow
def test_rate_one_minute_rule_fires_in_real_time(events: Any, sqs: Any, make_queue: Any) -> None:
    data = json.loads(RECORDED.read_text())
    [entry] = [v for k, v in data.items() if k.endswith("::tests_schedule_rate_target_sqs")]
    [expected] = entry["recorded-content"]["messages-first"]
    url, arn = make_queue()
    name = f"minute-{uuid.uuid4().hex[:8]}"
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")["RuleArn"]
    try:
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
        put_at = time.time()
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + 100
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
        assert messages, "the rule did not fire within 100 s"
        received_at = time.time()
        body = json.loads(messages[0]["Body"])
        assert list(body) == list(expected["Body"])
        assert body["detail-type"] == "Scheduled Event" and body["source"] == "aws.events"
        assert body["resources"] == [rule_arn] and body["detail"] == {}
        assert 55 <= received_at - put_at <= 75  # one period after the rule was created
    finally:
        events.delete_rule(Name=name, Force=True)
