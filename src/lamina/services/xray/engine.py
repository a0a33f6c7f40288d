"""X-Ray traces: segments in, summaries, traces and graphs out (store/traces_sqlite.py keeps them).

Three ways in. `traced` (the executor's hook, on the invoke path for sampled invocations only) appends the
invocation to a list; `received` (the daemon's UDP endpoint) checks a document and appends its row. A writer
thread, woken every second by a task on the project's clock (and before every read), turns the invocations into
Lambda's own segments (segments.py) and commits everything in one transaction. `put` (PutTraceSegments) commits
before it answers. A sweeper drops segments older than the retention (30 days, as X-Ray keeps traces).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.services.xray.filter_expressions import Predicate
from lamina.services.xray.segments import BadSegment, check, lambda_segments
from lamina.services.xray.traces import Trace, service_graph
from lamina.store.traces_sqlite import SegmentRow, TraceTables
from lamina.types import TracedInvocation

log = logging.getLogger(__name__)

RETENTION_DAYS = 30
FLUSH_SECONDS = 1.0
SWEEP_SECONDS = 3600.0
MAX_PENDING = 100_000  # beyond this (a flood while the disk stalls) new segments are dropped and counted
SUMMARY_LIMIT = 1000  # traces a GetTraceSummaries answer looks at (AWS pages; Lamina answers one page)

Exporter = Callable[[Sequence[SegmentRow]], None]


class TraceEngine:
    def __init__(
        self, tables: TraceTables, clock: Clock, account_id: str, retention_days: int = RETENTION_DAYS
    ) -> None:
        self.tables = tables
        self.clock = clock
        self.account_id = account_id
        self.retention_days = retention_days
        self._invocations: list[TracedInvocation] = []
        self._rows: list[SegmentRow] = []
        self._lock = threading.Lock()  # the writer thread and the readers share one connection
        self._tasks: list[asyncio.Task[None]] = []
        self.exporters: list[Exporter] = []  # told of every row written (the OTLP export)
        self.stats = {"lambdaSegments": 0, "received": 0, "rejected": 0, "dropped": 0, "swept": 0}

    # -- writing ---------------------------------------------------------------------------------------
    def traced(self, traced: TracedInvocation) -> None:
        """A sampled invocation ended (the executor's hook): queued, written within a second."""
        if len(self._invocations) < MAX_PENDING:
            self._invocations.append(traced)
        else:
            self.stats["dropped"] += 1

    def received(self, text: str) -> bool:
        """A document from the daemon endpoint: queued when valid, else counted and dropped."""
        try:
            row = check(text).row
        except BadSegment:
            self.stats["rejected"] += 1
            return False
        if len(self._rows) >= MAX_PENDING:
            self.stats["dropped"] += 1
            return False
        self.stats["received"] += 1
        self._rows.append(row)
        return True

    def put(self, documents: Sequence[str]) -> list[dict[str, str]]:
        """PutTraceSegments: the valid documents committed before this returns; the others as
        UnprocessedTraceSegments entries."""
        rows: list[SegmentRow] = []
        unprocessed: list[dict[str, str]] = []
        for text in documents:
            try:
                rows.append(check(text).row)
            except BadSegment as bad:
                entry = {"ErrorCode": bad.code, "Message": str(bad)}
                if bad.segment_id:
                    entry["Id"] = bad.segment_id
                unprocessed.append(entry)
        self._write(rows)
        return unprocessed

    def flush(self) -> None:
        invocations, self._invocations = self._invocations, []
        rows, self._rows = self._rows, []
        rows.extend(lambda_segments(traced) for traced in invocations)
        self.stats["lambdaSegments"] += 2 * len(invocations)
        try:
            self._write(rows)
        except BaseException:
            self._rows[:0] = rows  # kept for the next flush
            raise

    def _write(self, rows: Sequence[SegmentRow]) -> None:
        if not rows:
            return
        with self._lock:
            self.tables.add(rows)
        for export in self.exporters:
            try:
                export(rows)
            except Exception:
                log.exception("exporting spans failed")

    # -- reading ---------------------------------------------------------------------------------------
    def summaries(
        self, start: float, end: float, by_trace_start: bool, predicate: Predicate | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Summaries of the traces in the range that match, newest first, and how many were looked at."""
        traces = self._traces_between(start, end, by_trace_start)
        out = []
        for trace in traces:
            if predicate is None or predicate(trace.facts()):
                out.append(trace.summary(self.account_id))
        return out, len(traces)

    def traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        self.flush()
        with self._lock:
            found = self.tables.documents(trace_ids)
        return [Trace.assemble(tid, found[tid]) for tid in trace_ids if tid in found]

    def graph(self, start: float, end: float) -> list[dict[str, Any]]:
        return service_graph(self._traces_between(start, end, False), self.account_id)

    def trace_graph(self, trace_ids: Sequence[str]) -> list[dict[str, Any]]:
        return service_graph(self.traces(trace_ids), self.account_id)

    def _traces_between(self, start: float, end: float, by_trace_start: bool) -> list[Trace]:
        self.flush()
        with self._lock:
            ids = self.tables.trace_ids(start, end, by_trace_start, SUMMARY_LIMIT)
            found = self.tables.documents(ids)
        return [Trace.assemble(tid, found[tid]) for tid in ids if tid in found]

    # -- background ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            periodic.every(
                self.clock,
                FLUSH_SECONDS,
                self._flush_when_due,
                "writing trace segments failed (kept for the next flush)",
            ),
            periodic.every(self.clock, SWEEP_SECONDS, self.sweep, "trace retention sweep failed", first_now=True),
        ]

    def sweep(self) -> int:
        with self._lock:
            gone = self.tables.sweep(self.clock.time() - self.retention_days * 86400)
        self.stats["swept"] += gone
        return gone

    async def _flush_when_due(self) -> None:
        if self._invocations or self._rows:
            await asyncio.to_thread(self.flush)  # the writer thread: segments are built and written there

    async def close(self) -> None:
        for task in self._tasks:
            await periodic.cancel(task)
        self._tasks = []
        try:
            self.flush()
        finally:
            self.tables.close()
