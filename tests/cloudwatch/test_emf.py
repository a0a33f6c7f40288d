"""EMF lines a function prints become metrics (the shape Powertools' Metrics utility writes); malformed ones
are skipped and counted, and the function's logs are untouched."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lamina.services.cloudwatch.emf import Malformed, extract
from tests.cloudwatch.conftest import wait_for
from tests.conftest import make_zip
from tests.server import LaminaProcess

CODE = """
import json, time

def handler(event, context):
    print(json.dumps({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": event["ns"], "Dimensions": [["service"]],
            "Metrics": [{"Name": "SuccessfulBooking", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}],
        }]},
        "service": "booking", "SuccessfulBooking": 1, "Latency": [10, 30],
    }))
    print('{"_aws": {"CloudWatchMetrics": [{"Namespace": "AWS/Lambda", "Metrics": [{"Name": "X"}]}]}, "X": 1}')
    print('{"_aws": {"CloudWatchMetrics": "nope"}}')
    return {}
"""


def test_emf_lines_become_metrics(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
) -> None:
    ns = f"Emf/{fn_name}"
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})})
    with urllib.request.urlopen(f"{lamina.url}/health", timeout=10) as r:
        skipped_before = json.loads(r.read())["metrics"]["emfSkippedLines"]
    for _ in range(3):
        lambda_client.invoke(FunctionName=fn_name, Payload=json.dumps({"ns": ns}).encode())

    def stats(name: str) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        got: list[dict[str, Any]] = cloudwatch.get_metric_statistics(
            Namespace=ns, MetricName=name, Dimensions=[{"Name": "service", "Value": "booking"}],
            StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=660,
            Statistics=["Sum", "SampleCount", "Maximum"],
        )["Datapoints"]  # fmt: skip
        return got

    wait_for(lambda: [p["Sum"] for p in stats("SuccessfulBooking")] == [3.0])
    (latency,) = stats("Latency")
    assert (latency["Sum"], latency["SampleCount"], latency["Maximum"], latency["Unit"]) == (
        120.0, 6.0, 30.0, "Milliseconds",
    )  # fmt: skip
    now = datetime.now(UTC)
    (percentiles,) = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=[{"Name": "service", "Value": "booking"}],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=660,
        ExtendedStatistics=["p50", "p90"],
    )["Datapoints"]  # fmt: skip
    assert percentiles["ExtendedStatistics"] == {"p50": 10.0, "p90": 30.0}  # three 10s and three 30s
    with urllib.request.urlopen(f"{lamina.url}/health", timeout=10) as r:
        assert json.loads(r.read())["metrics"]["emfSkippedLines"] - skipped_before == 6  # 2 bad lines x 3


@pytest.mark.parametrize(
    "line",
    [
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "AWS/x", "Metrics": [{"Name": "m"}]}]}, "m": 1}',
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Metrics": [{"Name": "m"}]}]}}',
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Metrics": [{"Name": "m"}]}]}, "m": "1"}',
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [["d"]], "Metrics": [{"Name": "m"}]}]}, '
        '"m": 1, "d": 5}',
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Metrics": [{"Name": "m"}]}]}, "m": '
        + str(list(range(101)))
        + "}",
        '{"_aws": ',
    ],
)
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(Malformed):
        extract(line, 0)


def test_plain_lines_are_not_emf() -> None:
    assert extract("hello", 0) == []
    assert extract('{"level": "INFO", "message": "hi"}', 0) == []
    (point,) = extract('{"_aws": {"Timestamp": 60000, "CloudWatchMetrics": [{"Namespace": "n", "Metrics": '
                       '[{"Name": "m", "Unit": "Count"}]}]}, "m": 2}', 0)  # fmt: skip
    assert point[:4] == ("n", "m", (), "Count") and point[5] == 60.0
