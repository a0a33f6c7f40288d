"""The bounded distribution behind percentiles: exact while few values, within 1% once bucketed, merged."""

from __future__ import annotations

import random

from lamina.store.metric_distribution import EXACT_LIMIT, Distribution


def _exact_percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


def test_few_values_give_exact_percentiles_and_trimmed_means() -> None:
    d = Distribution()
    for v in range(1, 51):
        d.add(float(v))
    assert d.exact
    assert d.statistic("p", 50, 1, 50) == 25
    assert d.statistic("p", 99, 1, 50) == 50
    assert d.statistic("p", 0, 1, 50) == 1
    assert d.statistic("p", 100, 1, 50) == 50
    assert d.statistic("tm", 10, 1, 50) == 3.0  # the mean of 1..5


def test_many_values_stay_within_one_percent_and_small() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3, 1.5) for _ in range(50_000)]
    d = Distribution()
    for v in values:
        d.add(v)
    assert not d.exact
    low, high = min(values), max(values)
    for percent in (50, 90, 99, 99.9):
        want = _exact_percentile(values, percent)
        got = d.statistic("p", percent, low, high)
        assert abs(got - want) <= 0.0101 * want, (percent, got, want)
    assert d.statistic("p", 100, low, high) == high  # clamped to the true maximum
    assert len(d.encode()) < 16 * 1000


def test_merge_and_round_trip_through_the_stored_form() -> None:
    a, b = Distribution(), Distribution()
    for v in range(EXACT_LIMIT):
        a.add(float(v))
    b.add(0.0, 3)
    b.add(1000.0)
    again = Distribution.decode(a.encode())
    assert again.exact and again.counts == a.counts
    again.merge(b)
    assert not again.exact  # past EXACT_LIMIT distinct values
    assert again.count == EXACT_LIMIT + 4
    assert again.statistic("p", 0, 0, 1000) == 0.0
    assert again.statistic("p", 100, 0, 1000) == 1000.0
    back = Distribution.decode(again.encode())
    assert back.counts == again.counts and not back.exact
