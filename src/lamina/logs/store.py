"""A bounded on-disk store of function logs, shaped like CloudWatch Logs: groups hold streams hold events.

Writes are queued and performed by one writer thread, so the invoke path never waits on the disk.
Reads (`groups`, `streams`, `events`) serve a future CloudWatch Logs API and the tests; `flush` waits for
queued writes first.

Bounds, so a function flooding stdout exhausts neither disk nor memory:

* a stream stops growing at `max_stream_bytes` (one marker event says so);
* a group keeps at most `max_group_bytes`; the oldest streams are deleted to make room;
* at most `max_queued_bytes` wait for the writer; beyond that events are dropped and counted.

Layout: ``<root>/<quoted group>/<quoted stream>.log``, one event per line: ``<epoch ms>\\t<message>``.
Messages never contain a newline (capture splits on it; CloudWatch shows the same events).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

WRITE_INTERVAL = 0.05  # seconds between writer wake-ups while output keeps coming
WAKE_BYTES = 1 << 20  # queued bytes that wake the writer at once
TRUNCATED = "Lamina: log stream truncated: it reached its size limit; later output is dropped"


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
    def __init__(
        self,
        root: Path,
        max_stream_bytes: int = 16 << 20,
        max_group_bytes: int = 256 << 20,
        max_queued_bytes: int = 64 << 20,
    ) -> None:
        self.root = root
        self.max_stream_bytes = max_stream_bytes
        self.max_group_bytes = max_group_bytes
        self.max_queued_bytes = max_queued_bytes
        self.dropped_events = 0
        self._queue: deque[tuple[str, str, list[tuple[int, str]]]] = deque()
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._sizes: dict[Path, int] = {}
        # Per group folder: the total of its streams' sizes, so a write checks the group's limit without
        # walking every stream Lamina has ever written (that walk grew with the number of environments).
        self._group_totals: dict[Path, int] = {}
        self._made: set[Path] = set()  # group folders known to exist
        self._locations: dict[tuple[str, str], tuple[Path, Path]] = {}  # (group, stream) → (file, folder)
        self._full: set[Path] = set()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for path in self.root.glob("*/*.log"):
            self._grow(path, path.stat().st_size)
        self._thread = threading.Thread(target=self._run, name="lamina-logs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

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
            finally:
                with self._lock:
                    self._busy = False
                    self._idle.notify_all()

    def _write(self, batch: list[tuple[str, str, list[tuple[int, str]]]]) -> None:
        merged: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for group, stream, events in batch:
            merged.setdefault((group, stream), []).extend(events)
        for (group, stream), events in merged.items():
            path, folder = self._located(group, stream)
            if path in self._full:
                continue
            size = self._sizes.get(path, 0)
            lines: list[str] = []
            for ts, message in events:
                line = f"{ts}\t{message.replace(chr(10), chr(13))}\n"
                if size + len(line) > self.max_stream_bytes:
                    lines.append(f"{ts}\t{TRUNCATED}\n")
                    self._full.add(path)
                    break
                size += len(line)
                lines.append(line)
            if folder not in self._made:
                folder.mkdir(parents=True, exist_ok=True)
                self._made.add(folder)
            data = "".join(lines).encode("utf-8", "replace")
            try:
                f = open(path, "ab")  # noqa: SIM115 - closed below
            except FileNotFoundError:  # the folder was removed under us: make it again
                folder.mkdir(parents=True, exist_ok=True)
                f = open(path, "ab")  # noqa: SIM115
            with f:
                f.write(data)
            self._grow(path, len(data), folder)
            if self._group_totals[folder] > self.max_group_bytes:
                self._enforce_group_limit(folder)

    def _grow(self, path: Path, size: int, folder: Path | None = None) -> None:
        folder = path.parent if folder is None else folder
        self._sizes[path] = self._sizes.get(path, 0) + size
        self._group_totals[folder] = self._group_totals.get(folder, 0) + size

    def _enforce_group_limit(self, group_dir: Path) -> None:
        """Oldest streams first, until the group fits; rare, so it may walk every stream."""
        members = [(p, s) for p, s in self._sizes.items() if p.parent == group_dir]
        members.sort(key=lambda item: _mtime(item[0]))
        for path, size in members[:-1]:  # never delete the stream being written
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._sizes.pop(path, None)
            self._full.discard(path)
            self._group_totals[group_dir] -= size
            if self._group_totals[group_dir] <= self.max_group_bytes:
                return

    def _located(self, group: str, stream: str) -> tuple[Path, Path]:
        """The stream's file and its group's folder, made once per stream: the writer asks for every stream
        of every batch, and building them (quoting, joining, hashing paths) cost more than writing."""
        key = (group, stream)
        found = self._locations.get(key)
        if found is None:
            if len(self._locations) > 65536:
                self._locations.clear()
            path = self._path(group, stream)
            found = self._locations[key] = (path, path.parent)
        return found

    def _path(self, group: str, stream: str) -> Path:
        return self.root / quote(group, safe="") / (quote(stream, safe="") + ".log")

    # -- reading ---------------------------------------------------------------------------------------

    def groups(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(unquote(p.name) for p in self.root.iterdir() if p.is_dir())

    def streams(self, group: str) -> list[StreamInfo]:
        group_dir = self.root / quote(group, safe="")
        if not group_dir.exists():
            return []
        found = []
        for path in group_dir.glob("*.log"):
            stat = path.stat()
            found.append(StreamInfo(unquote(path.name[:-4]), stat.st_size, int(stat.st_mtime * 1000)))
        return sorted(found, key=lambda s: s.name)

    def events(self, group: str, stream: str, start_ms: int | None = None, end_ms: int | None = None) -> list[LogEvent]:
        path = self._path(group, stream)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        found = []
        for line in raw.decode("utf-8", "replace").split("\n"):
            if not line:
                continue
            ts_text, _, message = line.partition("\t")
            ts = int(ts_text)
            if (start_ms is None or ts >= start_ms) and (end_ms is None or ts < end_ms):
                found.append(LogEvent(ts, message))
        return found


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0
