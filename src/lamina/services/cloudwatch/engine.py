"""CloudWatch metrics: points aggregated on write into 1-minute buckets (store/metrics_sqlite.py).

Two ways in: PutMetricData commits before it answers (`put`); the platform's own counters (the AWS/Lambda
namespace, lambda_metrics.py) are added to an in-memory buffer (`record`, a dict update on the invoke path)
that a task on the project's clock flushes every second, and before every read. A sweeper drops points older
than the retention (15 days, as AWS keeps 1-minute points).

A sample may carry the distribution of its values (percentiles); one without it that is a single value or a
statistic set with Minimum == Maximum (a non-negative one) gets it here, as AWS computes percentiles for those.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lamina import periodic
from lamina.clock import Clock
from lamina.store.metric_distribution import Distribution
from lamina.store.metrics_sqlite import Aggregate, Bucket, Dimensions, MetricTables, Series

log = logging.getLogger(__name__)

RETENTION_DAYS = 15
FLUSH_SECONDS = 1.0
SWEEP_SECONDS = 3600.0

_Key = tuple[str, str, Dimensions, int, str]  # namespace, name, dimensions, minute, unit


@dataclass
class Sample:
    """Values for one bucket: count, sum, minimum, maximum (and their distribution, when known)."""

    samples: float
    total: float
    minimum: float
    maximum: float
    distribution: Distribution | None = None

    @classmethod
    def events(cls, n: int) -> Sample:
        """`n` events in a minute, as AWS's services report them: one datapoint per event (SampleCount n, Sum n)."""
        return cls(n, n, 1 if n else 0, 1 if n else 0)

    @classmethod
    def of_values(cls, values: Sequence[float], counts: Sequence[float] | None = None) -> Sample:
        """Raw values (each `counts` times): their distribution too, unless one is negative (AWS then has no
        percentiles)."""
        weights = [float(n) for n in counts] if counts is not None else [1.0] * len(values)
        distribution = None
        if min(values) >= 0:
            distribution = Distribution()
            for value, n in zip(values, weights, strict=True):
                distribution.add(float(value), n)
        total = math.fsum(v * n for v, n in zip(values, weights, strict=True))
        return cls(math.fsum(weights), total, float(min(values)), float(max(values)), distribution)

    @classmethod
    def gauge(cls, value: float) -> Sample:
        """One reading of a level (a peak, a queue's depth)."""
        return cls(1, value, value, value)

    def values(self) -> Distribution | None:
        """The distribution, or the one a constant sample implies; None when percentiles cannot be known."""
        if self.distribution is not None:
            return self.distribution
        if self.minimum == self.maximum and self.minimum >= 0 and self.samples > 0:
            return Distribution.constant(self.minimum, self.samples)
        return None

    def copy(self) -> Sample:
        d = self.values()
        return Sample(self.samples, self.total, self.minimum, self.maximum, None if d is None else d.copy())

    def merge(self, other: Sample) -> None:
        mine, theirs = self.values(), other.values()
        if mine is None or theirs is None:
            self.distribution = None
        else:
            mine.merge(theirs)
            self.distribution = mine
        self.samples += other.samples
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    def bucket(self, namespace: str, name: str, dimensions: Dimensions, minute: int, unit: str) -> Bucket:
        numbers = (self.samples, self.total, self.minimum, self.maximum)
        return Bucket(namespace, name, dimensions, minute, unit, *numbers, self.values())


class MetricsEngine:
    def __init__(self, tables: MetricTables, clock: Clock, retention_days: int = RETENTION_DAYS) -> None:
        self.tables = tables
        self.clock = clock
        self.retention_days = retention_days
        self._pending: dict[_Key, Sample] = {}
        self._producers: list[Callable[[], None]] = []  # fill the buffer just before a flush (Lambda's counters)
        self._samplers: list[Callable[[], None]] = []  # read levels (queue depths) just before a read
        self._tasks: list[asyncio.Task[None]] = []
        self.swept_points = 0
        self.enabled = True

    def add_producer(self, produce: Callable[[], None]) -> None:
        self._producers.append(produce)

    def add_sampler(self, sample: Callable[[], None]) -> None:
        """`sample` records the current levels before every read, so a gauge is current when asked for (its
        owner also samples once a minute from its producer, as AWS reports them)."""
        self._samplers.append(sample)

    def _before_read(self) -> None:
        for sample in self._samplers:
            sample()
        self.flush()

    # -- writing ---------------------------------------------------------------------------------------
    def record(
        self, namespace: str, name: str, dimensions: Dimensions, unit: str, sample: Sample, when: float | None = None
    ) -> None:
        """Buffered: lands in the store within a second (or at the next read)."""
        minute = int((self.clock.time() if when is None else when) // 60)
        key = (namespace, name, dimensions, minute, unit)
        found = self._pending.get(key)
        if found is None:
            self._pending[key] = sample.copy()
        else:
            found.merge(sample)

    def put(self, points: Sequence[tuple[str, str, Dimensions, float, str, Sample]]) -> None:
        """(namespace, name, dimensions, timestamp, unit, values): committed when this returns."""
        buckets = [s.bucket(ns, name, dims, int(when // 60), unit) for ns, name, dims, when, unit, s in points]
        self.tables.add(buckets, int(self.clock.time() * 1000))

    def flush(self) -> None:
        for produce in self._producers:
            produce()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        buckets = [s.bucket(ns, name, dims, minute, unit) for (ns, name, dims, minute, unit), s in pending.items()]
        try:
            self.tables.add(buckets, int(self.clock.time() * 1000))
        except BaseException:  # kept for the next flush, merged with what came since
            for key, sample in pending.items():
                found = self._pending.get(key)
                if found is None:
                    self._pending[key] = sample
                else:
                    found.merge(sample)
            raise

    # -- reading ---------------------------------------------------------------------------------------
    def aggregate(
        self,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        start: int,
        end: int,
        period: int,
        unit: str | None,
        distributions: bool = False,
    ) -> list[Aggregate]:
        self._before_read()
        return self.tables.aggregate(namespace, name, dimensions, start, end, period, unit, distributions)

    def series(self, namespace: str | None, name: str | None, recently_active: bool) -> list[Series]:
        self._before_read()
        since_hours = 3 if recently_active else 24 * self.retention_days
        since_ms = int((self.clock.time() - since_hours * 3600) * 1000)
        return list(self.tables.series(namespace, name, since_ms))

    # -- background ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            periodic.every(
                self.clock, FLUSH_SECONDS, self.flush, "writing metric points failed (kept for the next flush)"
            ),
            periodic.every(self.clock, SWEEP_SECONDS, self.sweep, "metric retention sweep failed", first_now=True),
        ]

    def sweep(self) -> int:
        before = int(self.clock.time() // 60) - self.retention_days * 24 * 60
        gone = self.tables.sweep(before)
        self.swept_points += gone
        return gone

    async def close(self) -> None:
        for task in self._tasks:
            await periodic.cancel(task)
        self._tasks = []
        try:
            self.flush()
        finally:
            self.tables.close()
