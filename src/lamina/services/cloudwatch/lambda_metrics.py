"""The AWS/Lambda namespace from the invoke path's own counters.

`invoked` (every recorded invocation) and `throttled` (every refused one) only add to per-minute counters in
memory; `produce`, run by the metrics engine before each flush (every second) and read, turns them into
points with the dimension sets AWS emits: none (account-wide), FunctionName, FunctionName+Resource
(`function:alias` / `function:version`, when invoked with a qualifier) and, for an alias,
FunctionName+Resource+ExecutedVersion.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from lamina.clock import Clock
from lamina.invoke.concurrency import qualifier_of
from lamina.services.cloudwatch.engine import MetricsEngine, Sample
from lamina.store.metric_distribution import Distribution
from lamina.store.metrics_sqlite import Dimensions
from lamina.types import VersionSpec

NAMESPACE = "AWS/Lambda"
# Upper bounds (seconds) of the Prometheus duration histogram's buckets (prometheus_export.py).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Totals:
    """Counters since the server started, per function (what GET /metrics exposes)."""

    __slots__ = ("buckets", "cold_starts", "duration_sum", "errors", "invocations", "throttles")

    def __init__(self) -> None:
        self.invocations = 0
        self.errors = 0
        self.cold_starts = 0
        self.throttles = 0
        self.duration_sum = 0.0  # seconds
        self.buckets = [0] * (len(DURATION_BUCKETS) + 1)  # per bucket (not cumulative); the last is +Inf


class _Counts:
    __slots__ = ("concurrency", "duration_max", "duration_min", "duration_sum", "durations", "errors", "invocations")

    def __init__(self) -> None:
        self.invocations = 0
        self.errors = 0
        self.duration_sum = 0.0
        self.duration_min = float("inf")
        self.duration_max = 0.0
        self.durations = Distribution()  # Duration's percentiles (p50, p99...)
        self.concurrency = 0


class LambdaMetrics:
    def __init__(
        self,
        engine: MetricsEngine,
        clock: Clock,
        in_use: Callable[[str], int],
        unreserved_in_use: Callable[[str], int],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._in_use = in_use
        self._unreserved = unreserved_in_use
        # (function name, qualifier or "", executed version, region, minute) → counters
        self._counts: dict[tuple[str, str, str, str, int], _Counts] = {}
        self._throttles: dict[tuple[str, int], int] = {}
        self._unreserved_peak: dict[tuple[str, int], int] = {}
        self.totals: dict[str, Totals] = {}
        self._async: dict[tuple[str, str, int], int] = {}  # (function, received|dropped, minute) → events
        self.enabled = True  # off: the hooks return at once (bench/metrics_bench.py compares)
        engine.add_producer(self.produce)

    # -- the invoke path (cheap) -----------------------------------------------------------------------
    def invoked(
        self, spec: VersionSpec, invoked_arn: str, duration_ms: float, init_ms: float | None, error: bool
    ) -> None:
        if not self.enabled:
            return
        total = self.totals.get(spec.function_name)
        if total is None:
            total = self.totals[spec.function_name] = Totals()
        total.invocations += 1
        seconds = duration_ms / 1000.0
        total.duration_sum += seconds
        total.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1
        if error:
            total.errors += 1
        if init_ms is not None:
            total.cold_starts += 1
        minute = int(self.clock.time() // 60)
        key = (spec.function_name, qualifier_of(invoked_arn) or "", spec.version, spec.region, minute)
        c = self._counts.get(key)
        if c is None:
            c = self._counts[key] = _Counts()
        c.invocations += 1
        if error:
            c.errors += 1
        c.duration_sum += duration_ms
        c.duration_min = min(c.duration_min, duration_ms)
        c.duration_max = max(c.duration_max, duration_ms)
        c.durations.add(duration_ms)
        busy = self._in_use(spec.function_arn)
        c.concurrency = max(c.concurrency, busy)
        region_key = (spec.region, minute)
        unreserved = self._unreserved(spec.region)
        if unreserved > self._unreserved_peak.get(region_key, 0):
            self._unreserved_peak[region_key] = unreserved

    def async_event(self, function_name: str, what: str) -> None:
        """An async event accepted ("received"), ended without a successful invocation ("dropped"), or one of its
        outcomes that could not be delivered ("dead_letter_error", "destination_failure")."""
        if not self.enabled:
            return
        key = (function_name, what, int(self.clock.time() // 60))
        self._async[key] = self._async.get(key, 0) + 1

    # -- rarer events: straight into the engine's buffer (a dict update each) ----------------------------
    def async_event_age(self, function_name: str, age_ms: float) -> None:
        """AsyncEventAge: from the event's queueing to this invocation attempt (Milliseconds)."""
        if not self.enabled:
            return
        sample = Sample(1, age_ms, age_ms, age_ms)
        for dims in ((), (("FunctionName", function_name),)):
            self.engine.record(NAMESPACE, "AsyncEventAge", dims, "Milliseconds", sample)

    def iterator_age(self, function_arn: str, age_ms: float) -> None:
        """IteratorAge of a stream mapping's batch: from its last record's arrival to the batch's invoke."""
        if not self.enabled:
            return
        parts = function_arn.split(":")
        name, qualifier = parts[6], parts[7] if len(parts) > 7 else ""
        sample = Sample(1, age_ms, age_ms, age_ms)
        for dims in _dimension_sets(name, qualifier, qualifier)[:3]:
            self.engine.record(NAMESPACE, "IteratorAge", dims, "Milliseconds", sample)

    def provisioned(self, function_arn: str, target: str, used: bool, busy: int, allocated: int) -> None:
        """An invocation of a version or alias with provisioned concurrency: on one of its environments (`used`,
        `busy` of `allocated` now in use) or spilled over to on-demand concurrency."""
        if not self.enabled:
            return
        name = function_arn.split(":")[6]
        record = self.engine.record
        for dims in ((("FunctionName", name),), (("FunctionName", name), ("Resource", f"{name}:{target}"))):
            if not used:
                record(NAMESPACE, "ProvisionedConcurrencySpilloverInvocations", dims, "Count", Sample.events(1))
                continue
            record(NAMESPACE, "ProvisionedConcurrencyInvocations", dims, "Count", Sample.events(1))
            record(NAMESPACE, "ProvisionedConcurrentExecutions", dims, "Count", Sample.gauge(busy))
            utilization = busy / allocated if allocated else 0.0
            record(NAMESPACE, "ProvisionedConcurrencyUtilization", dims, "Count", Sample.gauge(utilization))

    def throttled(self, function_arn: str) -> None:
        if not self.enabled:
            return
        name = function_arn.split(":")[6]
        total = self.totals.get(name)
        if total is None:
            total = self.totals[name] = Totals()
        total.throttles += 1
        key = (name, int(self.clock.time() // 60))
        self._throttles[key] = self._throttles.get(key, 0) + 1

    # -- into the metric store -------------------------------------------------------------------------
    def produce(self) -> None:
        if not (self._counts or self._throttles or self._unreserved_peak or self._async):
            return
        events, self._async = self._async, {}
        counts, self._counts = self._counts, {}
        throttles, self._throttles = self._throttles, {}
        peaks, self._unreserved_peak = self._unreserved_peak, {}
        record = self.engine.record
        for (name, qualifier, version, _region, minute), c in counts.items():
            when = minute * 60.0
            for dims in _dimension_sets(name, qualifier, version):
                record(NAMESPACE, "Invocations", dims, "Count", Sample.events(c.invocations), when)
                outcomes = Distribution({k: n for k, n in ((0.0, c.invocations - c.errors), (1.0, c.errors)) if n})
                errors = Sample(c.invocations, c.errors, int(c.errors == c.invocations), int(c.errors > 0), outcomes)
                record(NAMESPACE, "Errors", dims, "Count", errors, when)
                duration = Sample(c.invocations, c.duration_sum, c.duration_min, c.duration_max, c.durations)
                record(NAMESPACE, "Duration", dims, "Milliseconds", duration, when)
                if len(dims) <= 1:  # account-wide and per function
                    peak = Sample(1, c.concurrency, c.concurrency, c.concurrency)
                    record(NAMESPACE, "ConcurrentExecutions", dims, "Count", peak, when)
        for (name, minute), n in throttles.items():
            for dims in ((), (("FunctionName", name),)):
                record(NAMESPACE, "Throttles", dims, "Count", Sample.events(n), minute * 60.0)
        for (name, what, minute), n in events.items():
            metric = _ASYNC_METRICS[what]
            for dims in ((), (("FunctionName", name),)):
                self.engine.record(NAMESPACE, metric, dims, "Count", Sample.events(n), minute * 60.0)
        for (_region, minute), peak_value in peaks.items():
            peak = Sample(1, peak_value, peak_value, peak_value)
            record(NAMESPACE, "UnreservedConcurrentExecutions", (), "Count", peak, minute * 60.0)


_ASYNC_METRICS = {
    "received": "AsyncEventsReceived",
    "dropped": "AsyncEventsDropped",
    "dead_letter_error": "DeadLetterErrors",
    "destination_failure": "DestinationDeliveryFailures",
}


def _dimension_sets(name: str, qualifier: str, version: str) -> list[Dimensions]:
    sets: list[Dimensions] = [(), (("FunctionName", name),)]
    if qualifier:
        resource = (("FunctionName", name), ("Resource", f"{name}:{qualifier}"))
        sets.append(resource)
        if qualifier != version and not qualifier.isdigit() and qualifier != "$LATEST":  # an alias
            sets.append((("ExecutedVersion", version), *resource))
    return sets
