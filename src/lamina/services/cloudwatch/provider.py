"""CloudWatch's metric operations on the wire: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics.

Validation follows AWS (periods multiples of 60, or 1/5/10/20/30 for high resolution; StartTime before EndTime;
at most 1,440 datapoints per GetMetricStatistics; namespaces not under AWS/ for PutMetricData); answers are
AWS's shapes: the engine keeps 1-minute aggregates (count, sum, min, max) per unit.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from lamina.services.cloudwatch import faults
from lamina.services.cloudwatch.alarms import Alarms
from lamina.services.cloudwatch.engine import MetricsEngine, Sample
from lamina.services.cloudwatch.expressions import evaluate
from lamina.services.cloudwatch.statistics import STATISTICS, parse_percentile, percentile_of, statistic
from lamina.store.metrics_sqlite import Aggregate, Dimensions
from lamina.types import CallContext

HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MAX_DATAPOINTS = 1440
LIST_PAGE = 500


def dimensions_of(items: list[dict[str, Any]] | None) -> Dimensions:
    return tuple(sorted((d["Name"], d["Value"]) for d in items or ()))


def check_period(period: int, where: str = "Period") -> None:
    if period <= 0 or (period % 60 and period not in HIGH_RESOLUTION_PERIODS):
        raise faults.invalid_value(f"The parameter {where} must be a multiple of 60.")


class CloudWatchProvider:
    def __init__(self, engine: MetricsEngine) -> None:
        self.engine = engine

    # -- PutMetricData ---------------------------------------------------------------------------------
    def put_metric_data(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        namespace = params["Namespace"]
        if namespace.startswith("AWS/"):
            raise faults.invalid_value(f"The value {namespace} for parameter Namespace is invalid.")
        data = params.get("MetricData") or []
        if not data:
            raise faults.missing("The parameter MetricData is required.")
        if len(data) > 1000:
            raise faults.invalid_value("The collection MetricData must not have a size greater than 1000.")
        now = self.engine.clock.time()
        points: list[tuple[str, str, Dimensions, float, str, Sample]] = []
        for i, datum in enumerate(data, 1):
            where = f"MetricData.member.{i}"
            dims = datum.get("Dimensions") or []
            if len(dims) > 30:
                raise faults.invalid_value(f"The collection {where}.Dimensions must not have a size greater than 30.")
            when = datum.get("Timestamp", now)
            if when < now - 14 * 86400 or when > now + 2 * 3600:
                raise faults.invalid_value(
                    f"The parameter {where}.Timestamp must specify a time no more than two weeks in the past "
                    "and no more than two hours in the future."
                )
            unit = datum.get("Unit") or "None"
            for sample in _samples(datum, where):
                points.append((namespace, datum["MetricName"], dimensions_of(dims), when, unit, sample))
        self.engine.put(points)
        return {}

    # -- GetMetricStatistics ---------------------------------------------------------------------------
    def get_metric_statistics(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stats = params.get("Statistics") or []
        extended = params.get("ExtendedStatistics") or []
        if not stats and not extended:
            raise faults.invalid_combination("Must specify either Statistics or ExtendedStatistics")
        if stats and extended:
            raise faults.invalid_combination("Statistics and ExtendedStatistics are mutually exclusive")
        percentiles: dict[str, tuple[str, float]] = {}
        for name in extended:
            parsed = parse_percentile(name)
            if parsed is None:
                raise faults.invalid_value(
                    f"The value {name} for parameter ExtendedStatistics is not supported. "
                    "Specify a percentile between p0.0 and p100."
                )
            percentiles[name] = parsed
        period = params["Period"]
        check_period(period)
        start, end = int(params["StartTime"]), int(params["EndTime"])
        if start >= end:
            raise faults.invalid_value("The parameter StartTime must be less than the parameter EndTime.")
        start = start - start % 60
        requested = -(-(end - start) // period)
        if requested > MAX_DATAPOINTS:
            raise faults.invalid_combination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of {MAX_DATAPOINTS:,}. "
                "You may reduce the datapoints requested by increasing Period, or decreasing the time range."
            )
        aggs = self.engine.aggregate(
            params["Namespace"],
            params["MetricName"],
            dimensions_of(params.get("Dimensions")),
            start,
            end,
            period,
            params.get("Unit"),
            distributions=bool(percentiles),
        )
        points = []
        for agg in aggs:
            point: dict[str, Any] = {"Timestamp": float(agg.start), "Unit": agg.unit}
            for name in stats:
                point[name] = statistic(agg, name)
            found = {}
            for name, (kind, percent) in percentiles.items():
                value = percentile_of(agg, kind, percent)
                if value is not None:
                    found[name] = value
            if found:
                point["ExtendedStatistics"] = found
            points.append(point)
        return {"Label": params["MetricName"], "Datapoints": points}

    # -- GetMetricData ---------------------------------------------------------------------------------
    def get_metric_data(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queries = params.get("MetricDataQueries") or []
        start, end = int(params["StartTime"]), int(params["EndTime"])
        if start >= end:
            raise faults.invalid_value("The parameter StartTime must be less than the parameter EndTime.")
        ids = [q["Id"] for q in queries]
        if len(set(ids)) != len(ids):
            raise faults.invalid_value("The value for field MetricDataQueries.Id must be unique.")
        descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        values: dict[str, dict[int, float]] = {}
        labels: dict[str, str] = {}
        for i, query in enumerate(queries, 1):
            stat_query = query.get("MetricStat")
            expression = query.get("Expression")
            if (stat_query is None) == (expression is None):
                raise faults.invalid_value(
                    f"The parameter MetricDataQueries.member.{i} must specify exactly one of MetricStat and Expression."
                )
            if expression is not None:
                stat_ids = frozenset(q["Id"] for q in queries if "MetricStat" in q)
                found = evaluate(expression, values, query["Id"], stat_ids)
                if len(found) != 1:
                    raise faults.invalid_value(
                        f"Error in expression '{query['Id']}': it must return a single time series."
                    )
                values[query["Id"]] = found[0]
                labels[query["Id"]] = query.get("Label") or query["Id"]
                continue
            assert stat_query is not None
            stat = stat_query["Stat"]
            percentile = parse_percentile(stat)
            if stat not in STATISTICS and percentile is None:
                raise faults.invalid_value(
                    f"The value {stat} for parameter MetricDataQueries.member.{i}.MetricStat.Stat is invalid."
                )
            period = stat_query["Period"]
            check_period(period, f"MetricDataQueries.member.{i}.MetricStat.Period")
            metric = stat_query["Metric"]
            aggs = self.engine.aggregate(
                metric.get("Namespace", ""),
                metric.get("MetricName", ""),
                dimensions_of(metric.get("Dimensions")),
                start - start % 60,
                end,
                period,
                stat_query.get("Unit"),
                distributions=percentile is not None,
            )
            merged: dict[int, Aggregate] = {}
            for agg in aggs:  # one value per period across units
                had = merged.get(agg.start)
                merged[agg.start] = agg if had is None else _combine(had, agg)
            if percentile is None:
                values[query["Id"]] = {t: statistic(agg, stat) for t, agg in merged.items()}
            else:  # periods whose distribution is unknown have no value
                computed = {t: percentile_of(agg, *percentile) for t, agg in merged.items()}
                values[query["Id"]] = {t: v for t, v in computed.items() if v is not None}
            labels[query["Id"]] = query.get("Label") or metric.get("MetricName", "")
        results = []
        for query in queries:
            if not query.get("ReturnData", True):
                continue
            series = values[query["Id"]]
            slots = sorted(series, reverse=descending)
            results.append(
                {
                    "Id": query["Id"],
                    "Label": labels[query["Id"]],
                    "Timestamps": [float(t) for t in slots],
                    "Values": [series[t] for t in slots],
                    "StatusCode": "Complete",
                }
            )
        return {"MetricDataResults": results, "Messages": []}

    # -- ListMetrics -----------------------------------------------------------------------------------
    def list_metrics(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("Dimensions") or []
        series = self.engine.series(
            params.get("Namespace"), params.get("MetricName"), params.get("RecentlyActive") == "PT3H"
        )
        matching = [
            s
            for s in series
            if all(
                any(k == f["Name"] and ("Value" not in f or v == f["Value"]) for k, v in s.dimensions) for f in wanted
            )
        ]
        offset = _offset(params.get("NextToken"))
        page = matching[offset : offset + LIST_PAGE]
        answer: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": s.namespace,
                    "MetricName": s.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in s.dimensions],
                }
                for s in page
            ]
        }
        if offset + LIST_PAGE < len(matching):
            answer["NextToken"] = _token(offset + LIST_PAGE)
        return answer


def _combine(a: Aggregate, b: Aggregate) -> Aggregate:
    distribution = None
    if a.distribution is not None and b.distribution is not None:
        distribution = a.distribution.copy()
        distribution.merge(b.distribution)
    return Aggregate(
        a.start,
        a.unit,
        a.samples + b.samples,
        a.total + b.total,
        min(a.minimum, b.minimum),
        max(a.maximum, b.maximum),
        distribution,
    )


def _samples(datum: dict[str, Any], where: str) -> list[Sample]:
    has_value = "Value" in datum
    stats = datum.get("StatisticValues")
    values = datum.get("Values")
    if has_value and stats is not None:
        raise faults.invalid_combination(
            f"The parameters {where}.Value and {where}.StatisticValues are mutually exclusive and you have "
            "specified both."
        )
    if values is not None and (has_value or stats is not None):
        raise faults.invalid_combination(
            f"The parameters {where}.Values and {where}.Value or {where}.StatisticValues are mutually exclusive."
        )
    if has_value:
        value = _finite(datum["Value"], f"{where}.Value")
        return [Sample(1, value, value, value)]
    if stats is not None:
        count, total = stats["SampleCount"], stats["Sum"]
        low, high = stats["Minimum"], stats["Maximum"]
        for name, v in (("SampleCount", count), ("Sum", total), ("Minimum", low), ("Maximum", high)):
            _finite(v, f"{where}.StatisticValues.{name}")
        if count <= 0:
            raise faults.invalid_value(
                f"The value {count} for parameter {where}.StatisticValues.SampleCount is invalid."
            )
        if low > high:
            raise faults.invalid_value(
                f"The value {low} for parameter {where}.StatisticValues.Minimum is invalid: it is greater than "
                "the Maximum."
            )
        return [Sample(count, total, low, high)]
    if values is not None:
        counts = datum.get("Counts")
        if counts is not None and len(counts) != len(values):
            raise faults.invalid_combination(
                f"The parameters {where}.Values and {where}.Counts must be of the same size."
            )
        if len(values) > 150:
            raise faults.invalid_value(f"The collection {where}.Values must not have a size greater than 150.")
        if not values:
            raise faults.missing(f"The parameter {where}.Value is required.")
        numbers = [_finite(v, f"{where}.Values.member.{j + 1}") for j, v in enumerate(values)]
        return [Sample.of_values(numbers, counts)]
    raise faults.missing(f"The parameter {where}.Value is required.")


def _finite(value: float, where: str) -> float:
    if math.isnan(value) or math.isinf(value):
        raise faults.invalid_value(f"The value {value} for parameter {where} is invalid.")
    return value


class AlarmsProvider:
    """PutMetricAlarm, DescribeAlarms(ForMetric), DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions."""

    def __init__(self, alarms: Alarms) -> None:
        self.alarms = alarms

    def put_metric_alarm(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.alarms.put(params)
        return {}

    def describe_alarms(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.alarms.describe(params)
        limit = params.get("MaxRecords", 50)
        if not 1 <= limit <= 100:
            raise faults.invalid_value(f"The value {limit} for parameter MaxRecords is invalid.")
        offset = _offset(params.get("NextToken"))
        answer: dict[str, Any] = {"MetricAlarms": found[offset : offset + limit], "CompositeAlarms": []}
        if offset + limit < len(found):
            answer["NextToken"] = _token(offset + limit)
        return answer

    def describe_alarms_for_metric(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"MetricAlarms": self.alarms.for_metric(params)}

    def delete_alarms(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.alarms.delete(params["AlarmNames"])
        return {}

    def set_alarm_state(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.alarms.set_state(
            params["AlarmName"], params["StateValue"], params["StateReason"], params.get("StateReasonData")
        )
        return {}

    def enable_alarm_actions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.alarms.set_actions_enabled(params["AlarmNames"], True)
        return {}

    def disable_alarm_actions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.alarms.set_actions_enabled(params["AlarmNames"], False)
        return {}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError):
        raise faults.bad_token("The service cannot process the NextToken.") from None


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()
