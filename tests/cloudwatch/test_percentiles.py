"""Percentiles (ExtendedStatistics, GetMetricData `Stat: p99`) of PutMetricData values and AWS/Lambda Duration."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import json_runner
from tests.cloudwatch.conftest import wait_for
from tests.conftest import make_zip
from tests.server import LaminaProcess


def _minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)


def test_percentiles_of_put_values_per_minute_and_across_minutes(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = _minute()
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Timestamp": t, "Values": [float(v) for v in range(1, 51)]},
            {"MetricName": "Latency", "Timestamp": t + timedelta(seconds=61),
             "Values": [float(v) for v in range(51, 101)]},
        ],
    )  # fmt: skip
    got = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", StartTime=t, EndTime=t + timedelta(minutes=2), Period=60,
        ExtendedStatistics=["p50", "p99", "p100", "tm10"],
    )  # fmt: skip
    points = sorted(got["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["ExtendedStatistics"] for p in points] == [
        {"p50": 25.0, "p99": 50.0, "p100": 50.0, "tm10": 3.0},
        {"p50": 75.0, "p99": 100.0, "p100": 100.0, "tm10": 53.0},
    ]
    assert "Sum" not in points[0] and points[0]["Unit"] == "None"
    whole = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", StartTime=t, EndTime=t + timedelta(minutes=2), Period=120,
        ExtendedStatistics=["p50", "p90", "p99.9"],
    )["Datapoints"]  # fmt: skip
    # 100 distinct values: past the exact limit (64), the merged minutes are a histogram within 1% (as on AWS)
    (merged,) = [p["ExtendedStatistics"] for p in whole]
    assert merged == {
        "p50": pytest.approx(50, rel=0.01),
        "p90": pytest.approx(90, rel=0.01),
        "p99.9": pytest.approx(100, rel=0.01),
    }
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "p", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency"}, "Period": 60,
                                       "Stat": "p90"}}
        ],
        StartTime=t, EndTime=t + timedelta(minutes=2), ScanBy="TimestampAscending",
    )["MetricDataResults"][0]  # fmt: skip
    assert data["Values"] == [45.0, 95.0]
    assert data["Timestamps"] == [t, t + timedelta(minutes=1)]


def test_statistic_sets_have_percentiles_only_when_constant(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = _minute()
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Set", "Timestamp": t,
             "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 5, "Maximum": 5}},
            {"MetricName": "Set", "Timestamp": t + timedelta(seconds=60),
             "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}},
            {"MetricName": "Negative", "Timestamp": t, "Value": -3.0},
        ],
    )  # fmt: skip
    got = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Set", StartTime=t, EndTime=t + timedelta(minutes=2), Period=60,
        ExtendedStatistics=["p99"],
    )  # fmt: skip
    points = sorted(got["Datapoints"], key=lambda p: p["Timestamp"])
    assert len(points) == 2
    assert points[0]["ExtendedStatistics"] == {"p99": 5.0}
    assert "ExtendedStatistics" not in points[1]  # Minimum != Maximum: the values are unknown
    both = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Set", StartTime=t, EndTime=t + timedelta(minutes=2), Period=120,
        ExtendedStatistics=["p99"],
    )["Datapoints"]  # fmt: skip
    assert [p.get("ExtendedStatistics") for p in both] == [None]
    negative = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Negative", StartTime=t, EndTime=t + timedelta(minutes=1), Period=60,
        ExtendedStatistics=["p50"],
    )["Datapoints"]  # fmt: skip
    assert [p.get("ExtendedStatistics") for p in negative] == [None]


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            {"Statistics": ["Sum"], "ExtendedStatistics": ["p99"]},
            "InvalidParameterCombination",
            "Statistics and ExtendedStatistics are mutually exclusive",
        ),
        (
            {"ExtendedStatistics": ["p101"]},
            "InvalidParameterValue",
            "The value p101 for parameter ExtendedStatistics is not supported. Specify a percentile between p0.0 "
            "and p100.",
        ),
        (
            {"ExtendedStatistics": ["p99.999"]},
            "InvalidParameterValue",
            "The value p99.999 for parameter ExtendedStatistics is not supported. Specify a percentile between "
            "p0.0 and p100.",
        ),
        (
            {"ExtendedStatistics": [f"p{n}" for n in range(11)]},
            "InvalidParameterValue",
            "1 validation error detected: Value '[p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10]' at "
            "'extendedStatistics' failed to satisfy constraint: Member must have length less than or equal to 10",
        ),
    ],
)
def test_extended_statistics_errors(cloudwatch: Any, call: dict[str, Any], code: str, message: str) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as caught:
        cloudwatch.get_metric_statistics(
            Namespace="Test/errors", MetricName="M", StartTime=now - timedelta(hours=1), EndTime=now, Period=60,
            **call,
        )  # fmt: skip
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_metric_data_rejects_a_malformed_percentile(cloudwatch: Any) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as caught:
        cloudwatch.get_metric_data(
            MetricDataQueries=[
                {"Id": "p", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60,
                                           "Stat": "p1000"}}
            ],
            StartTime=now - timedelta(hours=1), EndTime=now,
        )  # fmt: skip
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"] == "The value p1000 for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid."


SLOW_ONCE = """
import time

def handler(event, context):
    time.sleep(event["sleep"])
    return {}
"""


def test_lambda_duration_percentiles_through_boto3_and_the_aws_cli(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
    tmp_path: Path,
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLOW_ONCE})})
    for i in range(10):  # nine quick ones and one of 400 ms: p90 is quick, p99 the slow one
        lambda_client.invoke(FunctionName=fn_name, Payload=b'{"sleep": 0.4}' if i == 5 else b'{"sleep": 0}')
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=10), now + timedelta(minutes=1)
    window: dict[str, Any] = {"StartTime": start, "EndTime": end, "Period": 660}

    def stats() -> Any:
        got = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="Duration", Dimensions=dims, Statistics=["SampleCount", "Maximum"],
            **window,
        )["Datapoints"]  # fmt: skip
        return got if got and got[0]["SampleCount"] == 10 else None

    (basic,) = wait_for(stats)
    (point,) = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="Duration", Dimensions=dims, ExtendedStatistics=["p90", "p99", "p100"],
        **window,
    )["Datapoints"]  # fmt: skip
    extended = point["ExtendedStatistics"]
    assert extended["p100"] == extended["p99"] == basic["Maximum"]
    assert basic["Maximum"] >= 400
    assert extended["p90"] < 400
    assert point["Unit"] == "Milliseconds"

    aws = json_runner(tmp_path, lamina.url, "cloudwatch")
    out = aws(
        "get-metric-statistics",
        "--namespace", "AWS/Lambda",
        "--metric-name", "Duration",
        "--dimensions", f"Name=FunctionName,Value={fn_name}",
        "--start-time", start.isoformat(),
        "--end-time", end.isoformat(),
        "--period", "660",
        "--extended-statistics", "p99",
    )  # fmt: skip
    assert [p["ExtendedStatistics"]["p99"] for p in out["Datapoints"]] == [basic["Maximum"]]
