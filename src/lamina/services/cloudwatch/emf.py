"""Embedded Metric Format: JSON lines a function prints with an `_aws.CloudWatchMetrics` directive become metric
points, as CloudWatch Logs extracts them (what Powertools' Metrics utility writes).

A listener of the log writer (logs/store.py, on its thread) looks only at function output streams; each line is
checked against AWS's rules (a namespace not under AWS/, at most 100 metrics per directive, 30 dimensions per set,
100 values per metric, dimension values strings, metric values numbers); a line that breaks one is skipped and
counted (`skipped`), never raised into the log pipeline. Points go to the metrics engine on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re

from lamina.services.cloudwatch.engine import MetricsEngine, Sample
from lamina.store.logs_sqlite import Written
from lamina.store.metrics_sqlite import Dimensions

log = logging.getLogger(__name__)

_FUNCTION_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[")
MAX_METRICS = 100
MAX_DIMENSIONS = 30
MAX_VALUES = 100
Point = tuple[str, str, Dimensions, str, Sample, float]


class Malformed(Exception):
    pass


def extract(message: str, fallback_ms: int) -> list[Point]:
    """The points one EMF line carries ([] when it is not EMF); raises Malformed when it breaks a rule."""
    text = message.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        raise Malformed("not JSON") from None
    meta = doc.get("_aws") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or "CloudWatchMetrics" not in meta:
        return []
    directives = meta["CloudWatchMetrics"]
    stamp = meta.get("Timestamp", fallback_ms)
    if not isinstance(directives, list) or isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise Malformed("CloudWatchMetrics must be a list and Timestamp a number")
    when = stamp / 1000.0
    points: list[Point] = []
    for directive in directives:
        if not isinstance(directive, dict):
            raise Malformed("a directive must be an object")
        namespace = directive.get("Namespace")
        metrics = directive.get("Metrics")
        dimension_sets = directive.get("Dimensions", [[]])
        if not isinstance(namespace, str) or not namespace or namespace.startswith("AWS/"):
            raise Malformed("Namespace")
        if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
            raise Malformed("Metrics")
        if not isinstance(dimension_sets, list):
            raise Malformed("Dimensions")
        sets: list[Dimensions] = []
        for names in dimension_sets or [[]]:
            if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
                raise Malformed("a dimension set")
            values = [doc.get(n) for n in names]
            if not all(isinstance(v, str) for v in values):
                raise Malformed("dimension values must be strings")
            sets.append(tuple(sorted(zip(names, values, strict=True))))
        for metric in metrics:
            name = metric.get("Name") if isinstance(metric, dict) else None
            if not isinstance(name, str) or name not in doc:
                raise Malformed("a metric without a value")
            unit = metric.get("Unit", "None")
            raw = doc[name]
            numbers = raw if isinstance(raw, list) else [raw]
            if not numbers or len(numbers) > MAX_VALUES:
                raise Malformed("too many values")
            for v in numbers:
                if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v) or math.isinf(v):
                    raise Malformed("values must be numbers")
            sample = Sample.of_values(numbers)
            points.extend((namespace, name, dims, str(unit), sample, when) for dims in sets)
    return points


class EmbeddedMetrics:
    def __init__(self, engine: MetricsEngine) -> None:
        self.engine = engine
        self.loop: asyncio.AbstractEventLoop | None = None
        self.skipped = 0
        self.extracted = 0

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    def written(self, batch: list[Written]) -> None:
        """The log writer's listener (its thread): extract, then hand the points to the event loop."""
        loop = self.loop
        if loop is None:
            return
        points: list[Point] = []
        for written in batch:
            if not _FUNCTION_STREAM.match(written.stream):
                continue
            for event in written.events:
                if '"_aws"' not in event.message:  # not EMF (START/END/REPORT, plain prints): no copy, no parse
                    continue
                try:
                    points.extend(extract(event.message, event.timestamp_ms))
                except Malformed:
                    self.skipped += 1
        if points:
            self.extracted += len(points)
            try:
                loop.call_soon_threadsafe(self._record, points)
            except RuntimeError:  # the loop closed while stopping
                pass

    def _record(self, points: list[Point]) -> None:
        for namespace, name, dims, unit, sample, when in points:
            self.engine.record(namespace, name, dims, unit, sample, when)
