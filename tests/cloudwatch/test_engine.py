"""The metrics engine in virtual time: buffered points, flush, retention sweep (no server, no sleeping)."""

from __future__ import annotations

from pathlib import Path

from lamina.clock import ManualClock
from lamina.services.cloudwatch.engine import MetricsEngine, Sample
from lamina.store.metrics_sqlite import MetricTables

START = 1_800_000_000.0


def test_retention_sweep_drops_points_older_than_15_days(tmp_path: Path) -> None:
    clock = ManualClock(START)
    engine = MetricsEngine(MetricTables(tmp_path / "lamina.db", "OFF"), clock)
    dims = (("D", "x"),)
    engine.put([("N", "old", dims, START, "Count", Sample(1, 5, 5, 5))])
    engine.record("N", "new", dims, "Count", Sample(2, 3, 1, 2), START + 86400 * 10)  # buffered
    clock.advance(86400 * 15 + 120)
    assert engine.sweep() == 1
    assert engine.aggregate("N", "old", dims, int(START) - 60, int(START) + 60, 60, None) == []
    (agg,) = engine.aggregate("N", "new", dims, int(START), int(clock.time()), 86400 * 15 + 120, None)
    assert (agg.samples, agg.total, agg.minimum, agg.maximum) == (2, 3, 1, 2)
    assert [s.name for s in engine.series("N", None, recently_active=False)] == ["new"]
    engine.tables.close()


def test_points_survive_a_reopen(tmp_path: Path) -> None:
    clock = ManualClock(START)
    engine = MetricsEngine(MetricTables(tmp_path / "lamina.db", "FULL"), clock)
    engine.put([("N", "m", (), START, "None", Sample(1, 1, 1, 1))])
    engine.tables.close()  # as after kill -9: PutMetricData had committed
    again = MetricsEngine(MetricTables(tmp_path / "lamina.db", "FULL"), clock)
    again.put([("N", "m", (), START + 1, "None", Sample(1, 2, 2, 2))])
    (agg,) = again.aggregate("N", "m", (), int(START), int(START) + 60, 60, None)
    assert (agg.samples, agg.total) == (2, 3)
    again.tables.close()


def test_percentiles_read_whole_blocks_from_the_block_rows_and_the_edges_from_the_minutes(tmp_path: Path) -> None:
    from lamina.store.metric_distribution import Distribution

    clock = ManualClock(START)
    engine = MetricsEngine(MetricTables(tmp_path / "lamina.db", "OFF"), clock)
    base = int(START // 3600 * 3600) + 1800  # half past an hour: periods cross hour boundaries
    values: dict[float, float] = {}
    for i in range(300):  # five hours of one value a minute, in two writes per minute
        v = float(i % 7)
        values[base + i * 60] = v
        engine.put([("N", "m", (), base + i * 60, "None", Sample(1, v, v, v))])
    engine.record("N", "m", (), "None", Sample(1, 3.0, 3.0, 3.0), base + 60 * 61)  # buffered, merged on flush
    values[base + 60 * 61 + 0.5] = 3.0
    for period in (60 * 45, 3600, 7200, 60 * 300):
        aggs = engine.aggregate("N", "m", (), base, base + 300 * 60, period, None, distributions=True)
        for agg in aggs:
            inside = sorted(v for t, v in values.items() if agg.start <= t < agg.start + period)
            want = Distribution()
            for v in inside:
                want.add(v)
            assert agg.distribution is not None and agg.samples == len(inside)
            for p in (10.0, 50.0, 90.0, 99.0):
                assert agg.distribution.statistic("p", p, agg.minimum, agg.maximum) == want.statistic(
                    "p", p, min(inside), max(inside)
                ), (period, agg.start, p)
    engine.tables.close()
