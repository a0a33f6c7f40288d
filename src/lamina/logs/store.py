"""A bounded store of function logs, shaped like CloudWatch Logs: groups hold streams hold events.

Events live in the database (store/logs_sqlite.py, migration 0009), where the logs API reads them. Writes of
function output are queued and performed by one writer thread in batches (one transaction per batch), so the
invoke path never waits on the disk. `flush` waits for queued writes; `listen` registers a callback that the
writer calls (on its thread) with what each batch stored, for subscription filters and live tails.

Bounds, so a function flooding stdout exhausts neither disk nor memory:

* a stream stops growing at `max_stream_bytes` (one marker event says so);
* a group keeps at most `max_group_bytes`; the streams written least recently are deleted to make room;
* at most `max_queued_bytes` wait for the writer; beyond that events are dropped and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..store.logs_sqlite import LogTables, Written

log = logging.getLogger(__name__)

WRITE_INTERVAL = 0.05  # seconds between writer wake-ups while output keeps coming
WAKE_BYTES = 1 << 20  # queued bytes that wake the writer at once
TRUNCATED = "Lamina: log stream truncated: it reached its size limit; later output is dropped"
Listener = Callable[[list[Written]], None]


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str


@dataclass(frozen=True)
class StreamInfo:
    name: str
    stored_bytes: int
    last_write_ms: int


class LogStore:
    """`path` is the database file (the data directory's lamina.db)."""

    def __init__(
        self,
        path: Path,
        max_stream_bytes: int = 16 << 20,
        max_group_bytes: int = 256 << 20,
        max_queued_bytes: int = 64 << 20,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_stream_bytes = max_stream_bytes
        self.max_group_bytes = max_group_bytes
        self.max_queued_bytes = max_queued_bytes
        self.dropped_events = 0
        self._now = now
        self._queue: deque[tuple[str, str, list[tuple[int, str]]]] = deque()
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._tables: LogTables | None = None
        self._listeners: list[Listener] = []

    @property
    def tables(self) -> LogTables:
        if self._tables is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tables = LogTables(self.path)
        return self._tables

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def notify(self, written: list[Written]) -> None:
        for listener in self._listeners:
            try:
                listener(written)
            except Exception:  # a listener's bug must not stop the log pipeline
                log.exception("log listener failed")

    def start(self) -> None:
        self.tables  # noqa: B018 - opened (and migrated) before the first write
        self._thread = threading.Thread(target=self._run, name="lamina-logs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._tables is not None:
            self._tables.close()
            self._tables = None

    # -- writing ---------------------------------------------------------------------------------------

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Queue `events` (epoch ms, message) for the stream; never blocks on the disk."""
        size = sum(len(m) + 16 for _, m in events)
        with self._lock:
            if self._queued_bytes + size > self.max_queued_bytes:
                self.dropped_events += len(events)
                return
            self._queued_bytes += size
            self._queue.append((group, stream, events))
            if self._queued_bytes > WAKE_BYTES:
                self._wake.notify()

    def flush(self) -> None:
        """Wait until everything queued so far is on disk."""
        with self._lock:
            self._wake.notify()
            while (self._queue or self._busy) and self._thread is not None:
                self._idle.wait(1.0)

    def _run(self) -> None:
        while True:
            with self._lock:
                # Wake every WRITE_INTERVAL (or early when much is queued), not per append: a thread
                # switch per invocation costs the event loop more than the write itself.
                self._wake.wait(WRITE_INTERVAL)
                while not self._queue and not self._closing:
                    self._wake.wait(WRITE_INTERVAL)
                if not self._queue and self._closing:
                    return
                batch = list(self._queue)
                self._queue.clear()
                self._queued_bytes = 0
                self._busy = True
            try:
                self._write(batch)
            except Exception:
                log.exception("writing %d log batches failed; they are dropped", len(batch))
                self.dropped_events += sum(len(events) for _, _, events in batch)
            finally:
                with self._lock:
                    self._busy = False
                    self._idle.notify_all()

    def _write(self, batch: list[tuple[str, str, list[tuple[int, str]]]]) -> None:
        written = self.tables.append(
            batch, int(self._now() * 1000), self.max_stream_bytes, self.max_group_bytes, TRUNCATED
        )
        if written and self._listeners:
            self.notify(written)

    # -- reading ---------------------------------------------------------------------------------------

    def groups(self) -> list[str]:
        return [g.name for g in self.tables.groups()]

    def streams(self, group: str) -> list[StreamInfo]:
        return [
            StreamInfo(s.name, s.stored_bytes, s.last_ingestion_ms or s.created_ms) for s in self.tables.streams(group)
        ]

    def events(self, group: str, stream: str, start_ms: int | None = None, end_ms: int | None = None) -> list[LogEvent]:
        found = self.tables.stream(group, stream)
        if found is None:
            return []
        rows = self.tables.stream_events(found.id, start_ms, end_ms, limit=1 << 30)
        return [LogEvent(r.timestamp_ms, r.message) for r in rows]
