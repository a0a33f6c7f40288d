"""GET /metrics: the Prometheus text exposition format, written by prometheus-client from a collector that reads
the platform's own counters at scrape time (nothing is added to the invoke path beyond lambda_metrics.py's).

lamina_invocations_total{function,outcome}, lamina_invocation_duration_seconds{function} (histogram),
lamina_cold_starts_total{function}, lamina_throttles_total{function}, lamina_concurrent_executions{function},
lamina_sqs_messages{queue,state}, lamina_environments{state}, lamina_environment_memory_reserved_bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from lamina.services.cloudwatch.lambda_metrics import DURATION_BUCKETS, LambdaMetrics

CONTENT_TYPE = CONTENT_TYPE_LATEST


class LaminaCollector:
    def __init__(
        self,
        lambda_metrics: LambdaMetrics,
        in_use: Callable[[], dict[str, int]],
        queue_depths: Callable[[], list[tuple[str, int, int, int]]],
        environments: Callable[[], dict[str, int]],
        reserved_memory_mb: Callable[[], int],
    ) -> None:
        self._lambda = lambda_metrics
        self._in_use = in_use
        self._queues = queue_depths
        self._environments = environments
        self._reserved_mb = reserved_memory_mb

    def collect(self) -> Iterator[Metric]:
        totals = sorted(self._lambda.totals.items())
        invocations = CounterMetricFamily(
            "lamina_invocations", "Invocations recorded, by function and outcome", labels=["function", "outcome"]
        )
        cold = CounterMetricFamily("lamina_cold_starts", "Invocations that started an environment", labels=["function"])
        throttles = CounterMetricFamily("lamina_throttles", "Invocations refused for concurrency", labels=["function"])
        duration = HistogramMetricFamily(
            "lamina_invocation_duration_seconds", "Invocation duration (REPORT's Duration)", labels=["function"]
        )
        bounds = [*(str(b) for b in DURATION_BUCKETS), "+Inf"]
        for name, t in totals:
            invocations.add_metric([name, "success"], t.invocations - t.errors)
            invocations.add_metric([name, "error"], t.errors)
            cold.add_metric([name], t.cold_starts)
            throttles.add_metric([name], t.throttles)
            if t.invocations:
                cumulative = list(accumulate(t.buckets))
                duration.add_metric([name], list(zip(bounds, cumulative, strict=True)), t.duration_sum)
        yield from (invocations, duration, cold, throttles)
        concurrency = GaugeMetricFamily(
            "lamina_concurrent_executions", "Invocations running now, by function", labels=["function"]
        )
        for name, n in sorted(self._in_use().items()):
            concurrency.add_metric([name], n)
        yield concurrency
        queues = GaugeMetricFamily("lamina_sqs_messages", "Messages in SQS queues, by state", labels=["queue", "state"])
        for queue, visible, flight, delayed in self._queues():
            queues.add_metric([queue, "visible"], visible)
            queues.add_metric([queue, "in_flight"], flight)
            queues.add_metric([queue, "delayed"], delayed)
        yield queues
        environments = GaugeMetricFamily("lamina_environments", "Execution environments, by state", labels=["state"])
        for state, n in sorted(self._environments().items()):
            environments.add_metric([state], n)
        yield environments
        yield GaugeMetricFamily(
            "lamina_environment_memory_reserved_bytes",
            "Memory reserved by the execution environments (their functions' MemorySize)",
            value=self._reserved_mb() * 1024 * 1024,
        )


class PrometheusExport:
    def __init__(self, collector: LaminaCollector) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)

    def render(self) -> bytes:
        body: bytes = generate_latest(self.registry)
        return body
