"""The aws CLI against Lamina's EventBridge Scheduler: create-schedule, get-schedule, list-schedules, an error,
delete-schedule, and a group."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_schedule_lifecycle(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    group = f"cli-group-{uuid.uuid4().hex[:6]}"
    aws("scheduler", "create-schedule-group", "--name", group)
    out = aws(
        "scheduler", "create-schedule", "--name", name, "--group-name", group,
        "--schedule-expression", "cron(0 8 ? * MON-FRI *)", "--schedule-expression-timezone", "Europe/Berlin",
        "--flexible-time-window", '{"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}',
        "--target", json.dumps({"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                                "RoleArn": "arn:aws:iam::000000000000:role/r", "Input": "{}"}),
    )  # fmt: skip
    assert out["ScheduleArn"] == f"arn:aws:scheduler:us-east-1:000000000000:schedule/{group}/{name}"
    got = aws("scheduler", "get-schedule", "--name", name, "--group-name", group)
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    listed = aws("scheduler", "list-schedules", "--group-name", group)
    assert [s["Name"] for s in listed["Schedules"]] == [name]
    err = aws(
        "scheduler", "create-schedule", "--name", "bad", "--schedule-expression", "rate(5 minutess)",
        "--flexible-time-window", '{"Mode": "OFF"}',
        "--target", '{"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"}',
        ok=False,
    )  # fmt: skip
    assert "ValidationException" in err and "Invalid Schedule Expression rate(5 minutess)." in err
    aws("scheduler", "delete-schedule", "--name", name, "--group-name", group)
    assert "ResourceNotFoundException" in aws("scheduler", "get-schedule", "--name", name, "--group-name", group,
                                              ok=False)  # fmt: skip
    aws("scheduler", "delete-schedule-group", "--name", group)
