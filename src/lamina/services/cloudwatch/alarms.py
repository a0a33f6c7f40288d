"""Metric alarms: durable documents, evaluated every minute on the project's clock against the metric store.

Each evaluation looks at the alarm's last `EvaluationPeriods` complete periods: `DatapointsToAlarm` breaching
ones (of those) make it ALARM; otherwise OK, or INSUFFICIENT_DATA when no period has data, with
`TreatMissingData` deciding what a period without data counts as (missing: nothing, the alarm looks only at
the periods that have data; breaching; notBreaching; ignore: the state is kept). A state change runs the
state's actions (SNS topics, through the `publish` callable app.py passes: the SNS engine's publish) with the
notification JSON AWS sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lamina.clock import Clock
from lamina.services.cloudwatch import faults
from lamina.services.cloudwatch.engine import MetricsEngine
from lamina.services.cloudwatch.statistics import parse_percentile, percentile_of, statistic
from lamina.store.documents import SqliteStore
from lamina.store.metrics_sqlite import Dimensions

log = logging.getLogger(__name__)

KIND = "cloudwatch-alarm"
EVALUATION_SECONDS = 60.0
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
Publish = Callable[[str, str, str], Awaitable[None]]  # topic ARN, subject, message

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_REGIONS = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
            "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)"}  # fmt: skip


def _iso(seconds: float) -> str:
    """AWS's form in alarm documents and notifications: 2026-12-07T09:21:00.000+0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}+0000"


class Alarms:
    def __init__(
        self, store: SqliteStore, metrics: MetricsEngine, clock: Clock, publish: Publish, region: str, account: str
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.publish = publish
        self.region = region
        self.account = account
        self.alarms: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self.notifications = 0
        self.failed_notifications = 0

    def load(self) -> None:
        self.alarms = dict(self.store.load(KIND))

    def arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}"

    # -- the API -----------------------------------------------------------------------------------------
    def put(self, params: dict[str, Any]) -> None:
        name = params["AlarmName"]
        if params.get("Metrics"):
            raise faults.invalid_value("Metric math alarms (Metrics) are not supported by Lamina yet.")
        for required in ("MetricName", "Namespace", "Period", "ComparisonOperator"):
            if required not in params:
                raise faults.missing(f"The parameter {required} is required.")
        if ("Statistic" in params) == ("ExtendedStatistic" in params):
            raise faults.invalid_combination("Exactly one of Statistic and ExtendedStatistic must be specified.")
        if "ExtendedStatistic" in params and parse_percentile(params["ExtendedStatistic"]) is None:
            raise faults.invalid_value(
                f"The value {params['ExtendedStatistic']} for parameter ExtendedStatistic is not supported. "
                "Specify a percentile between p0.0 and p100."
            )
        if params["ComparisonOperator"] not in _COMPARE:
            raise faults.invalid_value(
                f"The value {params['ComparisonOperator']} for parameter ComparisonOperator is invalid: anomaly "
                "detection bands are not supported by Lamina yet."
            )
        if "Threshold" not in params:
            raise faults.missing("The parameter Threshold is required.")
        period = params["Period"]
        if period <= 0 or (period % 60 and period not in (10, 20, 30)):
            raise faults.invalid_value("The parameter Period must be 10, 20, 30 or a multiple of 60.")
        periods = params["EvaluationPeriods"]
        to_alarm = params.get("DatapointsToAlarm", periods)
        if to_alarm > periods:
            raise faults.invalid_value(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods."  # AWS's wording
            )
        if period * periods > 7 * 86400:
            raise faults.invalid_value("The product of EvaluationPeriods and Period must not exceed 604800 seconds.")
        now = self.clock.time()
        old = self.alarms.get(name)
        doc: dict[str, Any] = {
            "AlarmName": name,
            "AlarmArn": self.arn(name),
            "AlarmDescription": params.get("AlarmDescription"),
            "AlarmConfigurationUpdatedTimestamp": now,
            "ActionsEnabled": params.get("ActionsEnabled", True),
            "OKActions": params.get("OKActions", []),
            "AlarmActions": params.get("AlarmActions", []),
            "InsufficientDataActions": params.get("InsufficientDataActions", []),
            "StateValue": old["StateValue"] if old else "INSUFFICIENT_DATA",
            "StateReason": old["StateReason"] if old else "Unchecked: Initial alarm creation",
            "StateUpdatedTimestamp": old["StateUpdatedTimestamp"] if old else now,
            "StateTransitionedTimestamp": old["StateTransitionedTimestamp"] if old else now,
            "MetricName": params["MetricName"],
            "Namespace": params["Namespace"],
            "Dimensions": params.get("Dimensions", []),
            "Period": period,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": to_alarm,
            "Threshold": float(params["Threshold"]),
            "ComparisonOperator": params["ComparisonOperator"],
            "TreatMissingData": params.get("TreatMissingData", "missing"),
        }
        for optional in ("Statistic", "ExtendedStatistic", "EvaluateLowSampleCountPercentile", "Unit"):
            if optional in params:
                doc[optional] = params[optional]
        if old and "StateReasonData" in old:
            doc["StateReasonData"] = old["StateReasonData"]
        with self.store.transaction():
            self.store.put(KIND, name, doc)
        self.alarms[name] = doc

    def describe(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        names = params.get("AlarmNames")
        prefix = params.get("AlarmNamePrefix")
        if names and prefix:
            raise faults.invalid_combination("AlarmNamePrefix and AlarmNames are mutually exclusive.")
        state = params.get("StateValue")
        action = params.get("ActionPrefix")
        types = params.get("AlarmTypes")
        if types and "MetricAlarm" not in types:
            return []
        out = []
        for name in sorted(self.alarms):
            doc = self.alarms[name]
            if names and name not in names:
                continue
            if prefix and not name.startswith(prefix):
                continue
            if state and doc["StateValue"] != state:
                continue
            actions = doc["OKActions"] + doc["AlarmActions"] + doc["InsufficientDataActions"]
            if action and not any(a.startswith(action) for a in actions):
                continue
            out.append(doc)
        return out

    def for_metric(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        dims = _dims(params.get("Dimensions"))
        return [
            doc
            for _, doc in sorted(self.alarms.items())
            if doc["Namespace"] == params["Namespace"]
            and doc["MetricName"] == params["MetricName"]
            and (not params.get("Dimensions") or _dims(doc["Dimensions"]) == dims)
            and all(
                params[k] == doc.get(k) for k in ("Statistic", "ExtendedStatistic", "Period", "Unit") if k in params
            )
        ]

    def delete(self, names: list[str]) -> None:
        missing = [n for n in names if n not in self.alarms]
        if missing:
            raise faults.not_found(f"{len(missing)} alarm(s) not found")
        with self.store.transaction():
            for name in names:
                self.store.delete(KIND, name)
        for name in names:
            self.alarms.pop(name, None)

    def set_actions_enabled(self, names: list[str], enabled: bool) -> None:
        changed = [n for n in names if n in self.alarms]
        with self.store.transaction():
            for name in changed:
                doc = {**self.alarms[name], "ActionsEnabled": enabled}
                self.store.put(KIND, name, doc)
                self.alarms[name] = doc

    def set_state(self, name: str, state: str, reason: str, reason_data: str | None) -> None:
        if name not in self.alarms:
            raise faults.not_found(f"Alarm {name} not found")
        if reason_data is not None:
            try:
                json.loads(reason_data)
            except ValueError:
                raise faults.invalid_format("Data was not syntactically valid JSON") from None
        self._transition(name, state, reason, reason_data)

    # -- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """One evaluation of every alarm, against the periods that ended by now."""
        now = self.clock.time()
        for name in list(self.alarms):
            doc = self.alarms.get(name)
            if doc is not None:
                self._evaluate(doc, now)

    def _evaluate(self, doc: dict[str, Any], now: float) -> None:
        period, n = doc["Period"], doc["EvaluationPeriods"]
        end = int(now // 60 * 60)
        start = end - n * period
        percentile = parse_percentile(doc["ExtendedStatistic"]) if "ExtendedStatistic" in doc else None
        aggs = self.metrics.aggregate(
            doc["Namespace"],
            doc["MetricName"],
            _dims(doc["Dimensions"]),
            start,
            end,
            period,
            doc.get("Unit"),
            distributions=percentile is not None,
        )
        values: dict[int, float] = {}
        for agg in aggs:
            had = values.get(agg.start)
            if percentile is not None:
                found = percentile_of(agg, *percentile)  # None: the values are unknown, a missing datapoint
                if found is not None:
                    values[agg.start] = found
                continue
            v = statistic(agg, doc["Statistic"])
            values[agg.start] = v if had is None else (had + v if doc["Statistic"] in ("Sum", "SampleCount") else v)
        compare = _COMPARE[doc["ComparisonOperator"]]
        threshold, treat = doc["Threshold"], doc["TreatMissingData"]
        slots = [start + i * period for i in range(n)]
        present = [(s, values[s]) for s in slots if s in values]
        breaching = [(s, v) for s, v in present if compare(v, threshold)]
        missing = n - len(present)
        if treat == "breaching":
            count, considered = len(breaching) + missing, n
        elif treat == "notBreaching":
            count, considered = len(breaching), n
        else:
            count, considered = len(breaching), len(present)
        if considered == 0:
            if treat == "ignore":
                return
            new = "INSUFFICIENT_DATA"
            reason = f"Insufficient Data: {n} datapoint{'s' if n != 1 else ''} were unknown."
        else:
            new = "ALARM" if count >= doc["DatapointsToAlarm"] else "OK"
            shown = breaching if new == "ALARM" else present
            points = ", ".join(f"{v} ({time.strftime('%d/%m/%y %H:%M:%S', time.gmtime(s))})" for s, v in shown)
            word = "was" if new == "ALARM" else "was not"
            reason = (
                f"Threshold Crossed: {len(shown)} datapoint{'s' if len(shown) != 1 else ''} [{points}] {word} "
                f"{_WORDS[doc['ComparisonOperator']]} the threshold ({threshold})."
            )
            if new == "OK" and not present:
                reason = f"Threshold Crossed: no datapoints were received for {n} period{'s' if n != 1 else ''}."
        if new != doc["StateValue"]:
            data = json.dumps(
                {
                    "version": "1.0",
                    "queryDate": _iso(now),
                    "startDate": _iso(start),
                    "statistic": doc.get("Statistic") or doc["ExtendedStatistic"],
                    "period": period,
                    "recentDatapoints": [v for _, v in present],
                    "threshold": threshold,
                    "evaluatedDatapoints": [{"timestamp": _iso(s), "value": v} for s, v in present],
                }
            )
            self._transition(doc["AlarmName"], new, reason, data)

    def _transition(self, name: str, new: str, reason: str, reason_data: str | None) -> None:
        doc = dict(self.alarms[name])
        old = doc["StateValue"]
        now = self.clock.time()
        doc.update(StateValue=new, StateReason=reason, StateUpdatedTimestamp=now)
        if reason_data is not None:
            doc["StateReasonData"] = reason_data
        if old != new:
            doc["StateTransitionedTimestamp"] = now
        with self.store.transaction():
            self.store.put(KIND, name, doc)
        self.alarms[name] = doc
        if old == new or not doc["ActionsEnabled"]:
            return
        actions = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[new]
        for target in doc[actions]:
            if target.split(":")[2:3] == ["sns"]:
                task = asyncio.get_running_loop().create_task(self._notify(target, doc, old, now))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)

    async def _notify(self, topic_arn: str, doc: dict[str, Any], old: str, now: float) -> None:
        region = _REGIONS.get(self.region, self.region)
        subject = f'{doc["StateValue"]}: "{doc["AlarmName"]}" in {region}'
        message = {
            "AlarmName": doc["AlarmName"],
            "AlarmDescription": doc.get("AlarmDescription"),
            "AWSAccountId": self.account,
            "AlarmConfigurationUpdatedTimestamp": _iso(doc["AlarmConfigurationUpdatedTimestamp"]),
            "NewStateValue": doc["StateValue"],
            "NewStateReason": doc["StateReason"],
            "StateChangeTime": _iso(now),
            "Region": region,
            "AlarmArn": doc["AlarmArn"],
            "OldStateValue": old,
            "OKActions": doc["OKActions"],
            "AlarmActions": doc["AlarmActions"],
            "InsufficientDataActions": doc["InsufficientDataActions"],
            "Trigger": {
                "MetricName": doc["MetricName"],
                "Namespace": doc["Namespace"],
                **(
                    {"StatisticType": "Statistic", "Statistic": doc["Statistic"].upper()}
                    if "Statistic" in doc
                    else {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": doc["ExtendedStatistic"]}
                ),
                "Unit": doc.get("Unit"),
                "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in doc["Dimensions"]],
                "Period": doc["Period"],
                "EvaluationPeriods": doc["EvaluationPeriods"],
                "DatapointsToAlarm": doc["DatapointsToAlarm"],
                "ComparisonOperator": doc["ComparisonOperator"],
                "Threshold": doc["Threshold"],
                "TreatMissingData": doc["TreatMissingData"],
                "EvaluateLowSampleCountPercentile": doc.get("EvaluateLowSampleCountPercentile", ""),
            },
        }
        try:
            await self.publish(topic_arn, subject, json.dumps(message))
            self.notifications += 1
        except Exception:
            self.failed_notifications += 1
            log.warning("alarm %s: notifying %s failed", doc["AlarmName"], topic_arn, exc_info=True)

    # -- background ----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._evaluate_forever())

    async def _evaluate_forever(self) -> None:
        while True:
            await self.clock.sleep(EVALUATION_SECONDS)
            try:
                self.evaluate()
            except Exception:
                log.exception("alarm evaluation failed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._sends):
            with contextlib.suppress(Exception):
                await task


def _dims(items: list[dict[str, Any]] | None) -> Dimensions:
    return tuple(sorted((d["Name"], d["Value"]) for d in items or ()))
