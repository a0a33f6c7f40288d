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
