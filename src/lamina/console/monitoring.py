"""The Monitor tab's charts and the function list's last-hour columns, read from CloudWatch's GetMetricData on
the AWS/Lambda namespace (the metrics Lambda publishes per function: services/cloudwatch/lambda_metrics.py).

The charts are one GetMetricData for the counted metrics (with the success rate as a metric math expression, as
the Lambda console draws it) and a second one for the duration percentiles: a CloudWatch without extended
statistics refuses `p99`, and that refusal must not take the other charts with it, so the page then shows the
maximum instead and says why. The list's columns are one GetMetricData for the whole page of functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lamina.errors import LaminaError

Calls = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
NAMESPACE = "AWS/Lambda"
RANGES = (15, 60, 180, 720, 1440, 10080)  # minutes the time-range picker offers
# (query id, metric, statistic, label): what the charts show, besides the percentiles and the success rate
COUNTED = (
    ("invocations", "Invocations", "Sum", "Invocations"),
    ("errors", "Errors", "Sum", "Errors"),
    ("throttles", "Throttles", "Sum", "Throttles"),
    ("durationAvg", "Duration", "Average", "Duration average"),
    ("durationMax", "Duration", "Maximum", "Duration maximum"),
    ("concurrent", "ConcurrentExecutions", "Maximum", "Concurrent executions"),
    ("asyncAge", "AsyncEventAge", "Maximum", "Async event age"),
)
PERCENTILES = (("durationP50", "p50"), ("durationP99", "p99"))


def period_for(minutes: int) -> int:
    """A period that gives at most 60 points over the range, in whole minutes (CloudWatch's rule)."""
    return max(60, -(-minutes // 60) * 60)


def _stat(query_id: str, function: str, metric: str, stat: str, period: int, label: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "Label": label,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
            },
            "Period": period,
            "Stat": stat,
        },
    }


def _series(results: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """Each result's points as [[epoch seconds, value], ...], oldest first."""
    out: dict[str, list[list[float]]] = {}
    for r in results:
        pairs = sorted(zip(r.get("Timestamps", []), r.get("Values", []), strict=True))
        out[r["Id"]] = [[float(t), float(v)] for t, v in pairs]
    return out


async def function_metrics(calls: Calls, function: str, minutes: int, now: float) -> dict[str, Any]:
    """The Monitor tab's series for the `minutes` before `now`."""
    period = period_for(minutes)
    end = float(int(now) - int(now) % 60 + 60)  # the current minute included
    start = end - minutes * 60
    queries = [_stat(q, function, metric, stat, period, label) for q, metric, stat, label in COUNTED]
    queries.append({"Id": "successRate", "Label": "Success rate (%)", "Expression": "100 - 100 * errors / invocations"})
    got = await calls(
        "cloudwatch",
        "GetMetricData",
        {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"},
    )
    series = _series(got.get("MetricDataResults", []))
    percentiles: str | None = None
    try:
        extended = await calls(
            "cloudwatch",
            "GetMetricData",
            {
                "MetricDataQueries": [
                    _stat(q, function, "Duration", stat, period, f"Duration {stat}") for q, stat in PERCENTILES
                ],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            },
        )
        series.update(_series(extended.get("MetricDataResults", [])))
        if series["invocations"] and not any(series.get(q) for q, _ in PERCENTILES):
            percentiles = "CloudWatch returned no percentiles: the maximum is shown instead."
    except LaminaError as exc:
        percentiles = f"Percentiles are not available ({exc.message}): the maximum is shown instead."
    return {"start": start, "end": end, "period": period, "series": series, "percentilesNote": percentiles}


async def last_hour(calls: Calls, functions: list[str], now: float) -> dict[str, dict[str, float]]:
    """Invocations and errors of each function in the hour before `now`, from one GetMetricData."""
    if not functions:
        return {}
    end = float(int(now) - int(now) % 60 + 60)
    start = end - 3600
    queries = []
    for i, name in enumerate(functions):
        queries.append(_stat(f"i{i}", name, "Invocations", "Sum", 3600, "Invocations"))
        queries.append(_stat(f"e{i}", name, "Errors", "Sum", 3600, "Errors"))
    got = await calls("cloudwatch", "GetMetricData", {"MetricDataQueries": queries, "StartTime": start, "EndTime": end})
    totals = {r["Id"]: float(sum(r.get("Values", []))) for r in got.get("MetricDataResults", [])}
    return {
        name: {"invocations": totals.get(f"i{i}", 0.0), "errors": totals.get(f"e{i}", 0.0)}
        for i, name in enumerate(functions)
    }
