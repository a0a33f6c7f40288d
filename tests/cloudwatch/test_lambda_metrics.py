"""The AWS/Lambda namespace from real invocations, read through boto3 and `aws cloudwatch get-metric-statistics`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.aws_cli import json_runner
from tests.cloudwatch.conftest import wait_for
from tests.conftest import make_zip
from tests.server import LaminaProcess

CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""


def _sum(cloudwatch: Any, name: str, dims: list[dict[str, str]], stat: str = "Sum") -> float:
    now = datetime.now(UTC)
    got = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=name,
        Dimensions=dims,
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=660,
        Statistics=[stat],
    )["Datapoints"]
    return float(sum(p[stat] for p in got))


def test_invocations_errors_and_duration(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
    tmp_path: Path,
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})})
    version = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    lambda_client.create_alias(FunctionName=fn_name, Name="live", FunctionVersion=version)
    for i in range(8):
        payload = b'{"fail": true}' if i < 2 else b"{}"
        qualifier = {"Qualifier": "live"} if i >= 5 else {}
        lambda_client.invoke(FunctionName=fn_name, Payload=payload, **qualifier)
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    wait_for(lambda: _sum(cloudwatch, "Invocations", dims) == 8)
    assert _sum(cloudwatch, "Errors", dims) == 2
    assert _sum(cloudwatch, "Duration", dims, "SampleCount") == 8
    assert _sum(cloudwatch, "Duration", dims, "Maximum") > 0
    assert _sum(cloudwatch, "ConcurrentExecutions", dims, "Maximum") >= 1
    alias = [*dims, {"Name": "Resource", "Value": f"{fn_name}:live"}]
    assert _sum(cloudwatch, "Invocations", alias) == 3
    executed = [*alias, {"Name": "ExecutedVersion", "Value": version}]
    assert _sum(cloudwatch, "Invocations", executed) == 3
    listed = cloudwatch.list_metrics(Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": fn_name}])
    names = {m["MetricName"] for m in listed["Metrics"]}
    assert {"Invocations", "Errors", "Duration", "ConcurrentExecutions"} <= names

    # The aws CLI sees the same values.
    aws = json_runner(tmp_path, lamina.url, "cloudwatch")
    now = datetime.now(UTC)
    out = aws(
        "get-metric-statistics",
        "--namespace", "AWS/Lambda",
        "--metric-name", "Invocations",
        "--dimensions", f"Name=FunctionName,Value={fn_name}",
        "--start-time", (now - timedelta(minutes=10)).isoformat(),
        "--end-time", (now + timedelta(minutes=1)).isoformat(),
        "--period", "660",
        "--statistics", "Sum",
    )  # fmt: skip
    assert out["Label"] == "Invocations"
    assert [p["Sum"] for p in out["Datapoints"]] == [8.0]
    errors = aws(
        "get-metric-statistics",
        "--namespace", "AWS/Lambda",
        "--metric-name", "Errors",
        "--dimensions", f"Name=FunctionName,Value={fn_name}",
        "--start-time", (now - timedelta(minutes=10)).isoformat(),
        "--end-time", (now + timedelta(minutes=1)).isoformat(),
        "--period", "660",
        "--statistics", "Sum",
    )  # fmt: skip
    assert [p["Sum"] for p in errors["Datapoints"]] == [2.0]


def test_throttles(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
) -> None:
    create_function(fn_name)
    lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=0)
    once = boto3.client(  # botocore retries 429s otherwise, even with the fixtures' max_attempts 1
        "lambda",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )
    for _ in range(3):
        with pytest.raises(once.exceptions.TooManyRequestsException):
            once.invoke(FunctionName=fn_name, Payload=b"{}")
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    wait_for(lambda: _sum(cloudwatch, "Throttles", dims) == 3)


def test_async_events_received_and_dropped(
    cloudwatch: Any, lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})})
    lambda_client.put_function_event_invoke_config(FunctionName=fn_name, MaximumRetryAttempts=0)
    lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b"{}")
    lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b'{"fail": true}')
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    wait_for(lambda: _sum(cloudwatch, "AsyncEventsReceived", dims) == 2)
    wait_for(lambda: _sum(cloudwatch, "AsyncEventsDropped", dims) == 1)  # the failure, no retries
    wait_for(lambda: _sum(cloudwatch, "Invocations", dims) == 2)
    assert _sum(cloudwatch, "Errors", dims) == 1
