"""PutMetricData → GetMetricStatistics / GetMetricData / ListMetrics through boto3 (the CBOR protocol)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _minute() -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=5)


def test_values_are_aggregated_per_minute(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = _minute()
    dims = [{"Name": "Service", "Value": "orders"}]
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t, "Value": 10.0, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t + timedelta(seconds=20), "Value": 30.0,
             "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t + timedelta(seconds=70),
             "Values": [1.0, 2.0], "Counts": [3.0, 1.0], "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t + timedelta(seconds=130),
             "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}, "Unit": "Milliseconds",
             "StorageResolution": 1},
        ],
    )  # fmt: skip
    got = cloudwatch.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=dims,
        StartTime=t,
        EndTime=t + timedelta(minutes=3),
        Period=60,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
    )
    assert got["Label"] == "Latency"
    points = sorted(got["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["Timestamp"], p["SampleCount"], p["Sum"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points] == [
        (t, 2.0, 40.0, 10.0, 30.0, "Milliseconds"),
        (t + timedelta(minutes=1), 4.0, 5.0, 1.0, 2.0, "Milliseconds"),
        (t + timedelta(minutes=2), 4.0, 100.0, 5.0, 50.0, "Milliseconds"),
    ]
    assert points[0]["Average"] == 20.0
    whole = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t, EndTime=t + timedelta(minutes=3),
        Period=180, Statistics=["Sum", "SampleCount"],
    )["Datapoints"]  # fmt: skip
    assert [(p["Sum"], p["SampleCount"]) for p in whole] == [(145.0, 10.0)]
    # Other dimensions are another series.
    other = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", StartTime=t, EndTime=t + timedelta(minutes=3), Period=60,
        Statistics=["Sum"],
    )  # fmt: skip
    assert other["Datapoints"] == []


def test_get_metric_data_and_list_metrics(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = _minute()
    for i, colour in enumerate(("red", "blue")):
        cloudwatch.put_metric_data(
            Namespace=ns,
            MetricData=[
                {"MetricName": "Hits", "Dimensions": [{"Name": "Colour", "Value": colour}], "Timestamp": t,
                 "Value": float(i + 1), "Unit": "Count"},
                {"MetricName": "Hits", "Dimensions": [{"Name": "Colour", "Value": colour}],
                 "Timestamp": t + timedelta(minutes=1), "Value": 10.0 * (i + 1), "Unit": "Count"},
            ],
        )  # fmt: skip
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "red",
                "MetricStat": {
                    "Metric": {
                        "Namespace": ns,
                        "MetricName": "Hits",
                        "Dimensions": [{"Name": "Colour", "Value": "red"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=t,
        EndTime=t + timedelta(minutes=2),
    )
    (result,) = data["MetricDataResults"]
    assert result["Id"] == "red" and result["Label"] == "Hits" and result["StatusCode"] == "Complete"
    assert result["Timestamps"] == [t + timedelta(minutes=1), t]  # TimestampDescending by default
    assert result["Values"] == [10.0, 1.0]
    listed = cloudwatch.list_metrics(Namespace=ns)["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in listed) == ["blue", "red"]
    assert all(m["Namespace"] == ns and m["MetricName"] == "Hits" for m in listed)
    only = cloudwatch.list_metrics(Namespace=ns, Dimensions=[{"Name": "Colour", "Value": "blue"}])["Metrics"]
    assert only == [{"Namespace": ns, "MetricName": "Hits", "Dimensions": [{"Name": "Colour", "Value": "blue"}]}]
    assert cloudwatch.list_metrics(Namespace=ns, MetricName="Misses")["Metrics"] == []


def test_list_metrics_pages(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": f"M{i:04d}", "Value": 1.0} for i in range(600)],
    )
    pages = list(cloudwatch.get_paginator("list_metrics").paginate(Namespace=ns))
    assert [len(p["Metrics"]) for p in pages] == [500, 100]
    assert len({m["MetricName"] for p in pages for m in p["Metrics"]}) == 600


_HALF_MINUTE = datetime.now(UTC).replace(second=30, microsecond=0)


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            {"Period": 90},
            "InvalidParameterValue",
            "The parameter Period must be a multiple of 60.",
        ),
        (
            {"Period": 60, "EndTime": datetime(2020, 1, 1, tzinfo=UTC)},
            "InvalidParameterValue",
            "The parameter StartTime must be less than the parameter EndTime.",
        ),
        (
            {"Period": 60, "Statistics": []},
            "InvalidParameterCombination",
            "Must specify either Statistics or ExtendedStatistics",
        ),
        (
            # both ends given, from one instant at second 30: exactly 3 days touch 4,321 minutes, wherever the
            # clock stands when the parameters are built (at collection)
            {"Period": 60, "StartTime": _HALF_MINUTE - timedelta(days=3), "EndTime": _HALF_MINUTE},
            "InvalidParameterCombination",
            "You have requested up to 4,321 datapoints, which exceeds the limit of 1,440. You may reduce the "
            "datapoints requested by increasing Period, or decreasing the time range.",
        ),
    ],
)
def test_get_metric_statistics_errors(cloudwatch: Any, call: dict[str, Any], code: str, message: str) -> None:
    args: dict[str, Any] = {
        "Namespace": "Test/errors",
        "MetricName": "M",
        "StartTime": datetime.now(UTC) - timedelta(hours=1),
        "EndTime": datetime.now(UTC),
        "Statistics": ["Sum"],
        **call,
    }
    if args["Statistics"] == []:
        del args["Statistics"]
    with pytest.raises(ClientError) as caught:
        cloudwatch.get_metric_statistics(**args)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_put_metric_data_errors_change_nothing(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[{"MetricName": "Invocations", "Value": 1.0}])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_data(
            Namespace=ns,
            MetricData=[
                {"MetricName": "Good", "Value": 1.0},
                {"MetricName": "Bad", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1,
                                                                        "Maximum": 1}},
            ],
        )  # fmt: skip
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterCombination"
    assert error["Message"] == (
        "The parameters MetricData.member.2.Value and MetricData.member.2.StatisticValues are mutually exclusive "
        "and you have specified both."
    )
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_data(
            Namespace=ns, MetricData=[{"MetricName": "Bad", "Values": [1.0, 2.0], "Counts": [1.0]}]
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterCombination"
    time.sleep(0)  # nothing buffered: PutMetricData commits or refuses whole
    assert cloudwatch.list_metrics(Namespace=ns)["Metrics"] == []


def test_get_metric_data_math(cloudwatch: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = _minute()
    data = []
    for i, (errors, calls) in enumerate(((1.0, 4.0), (0.0, 5.0), (3.0, 6.0))):
        when = t + timedelta(minutes=i)
        data.append({"MetricName": "Errors", "Timestamp": when, "Value": errors})
        data.append({"MetricName": "Invocations", "Timestamp": when, "Value": calls})
    cloudwatch.put_metric_data(Namespace=ns, MetricData=data)

    def stat(qid: str, name: str) -> dict[str, Any]:
        return {
            "Id": qid,
            "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name}, "Period": 60, "Stat": "Sum"},
            "ReturnData": False,
        }

    got = cloudwatch.get_metric_data(
        MetricDataQueries=[
            stat("e", "Errors"),
            stat("n", "Invocations"),
            {"Id": "rate", "Expression": "100 * e / n", "Label": "Error rate"},
            {"Id": "both", "Expression": "SUM([e, n])"},
            {"Id": "total", "Expression": "SUM(n) + 1"},
            {"Id": "worst", "Expression": "MAX(METRICS())"},
        ],
        StartTime=t,
        EndTime=t + timedelta(minutes=3),
        ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r for r in got["MetricDataResults"]}
    assert set(results) == {"rate", "both", "total", "worst"}
    assert results["rate"]["Label"] == "Error rate"
    assert results["rate"]["Timestamps"] == [t, t + timedelta(minutes=1), t + timedelta(minutes=2)]
    assert results["rate"]["Values"] == [25.0, 0.0, 50.0]
    assert results["both"]["Values"] == [5.0, 5.0, 9.0]
    assert results["total"]["Values"] == [16.0, 16.0, 16.0]
    assert results["worst"]["Values"] == [4.0, 5.0, 6.0]
    with pytest.raises(ClientError) as caught:
        cloudwatch.get_metric_data(
            MetricDataQueries=[stat("e", "Errors"), {"Id": "bad", "Expression": "e + nope"}],
            StartTime=t,
            EndTime=t + timedelta(minutes=3),
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == "Error in expression 'bad': unknown identifier 'nope'"
