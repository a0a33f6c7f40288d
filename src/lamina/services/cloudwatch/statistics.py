"""CloudWatch's statistic names and their values for one period (`Aggregate`), shared by the metric reads and
the alarms: the five basic statistics, and the percentile ones (pNN.NN, tmNN.NN) read from the period's merged
distribution (store/metric_distribution.py)."""

from __future__ import annotations

import re

from lamina.store.metrics_sqlite import Aggregate

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
# pNN.NN (p0 to p100, up to two decimals) and tmNN.NN (the mean of the values up to that percentile).
PERCENTILE_STATISTIC = re.compile(r"(p|tm)(100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)")


def parse_percentile(name: str) -> tuple[str, float] | None:
    """("p", 99.9) for "p99.9", ("tm", 90.0) for "tm90"; None when `name` is no percentile statistic."""
    found = PERCENTILE_STATISTIC.fullmatch(name)
    return None if found is None else (found.group(1), float(found.group(2)))


def percentile_of(agg: Aggregate, kind: str, percent: float) -> float | None:
    """A percentile statistic of the period, None when its values' distribution is unknown."""
    if agg.distribution is None or not agg.samples:
        return None
    return agg.distribution.statistic(kind, percent, agg.minimum, agg.maximum)


def statistic(agg: Aggregate, name: str) -> float:
    if name == "SampleCount":
        return agg.samples
    if name == "Sum":
        return agg.total
    if name == "Minimum":
        return agg.minimum
    if name == "Maximum":
        return agg.maximum
    return agg.total / agg.samples if agg.samples else 0.0
