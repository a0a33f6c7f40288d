"""CloudWatch Logs' groups, streams, events and subscription filters on SQLite (tables of migration 0009).

One connection guarded by a lock, shared by the log writer thread (function output, in batches: one
transaction per batch) and the event loop (the logs API: small transactions, committed before answering).
Event ids are assigned here, under the lock, in insertion order; the read order of a stream is (timestamp, id).

Bounds live here because they are enforced while writing: a stream stops growing at `max_stream_bytes` (one
marker event says so and the stream is marked full); a group keeps at most `max_group_bytes`, the streams
written least recently are deleted to make room (never the one being written).
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from lamina.store.documents import SqliteStore
from lamina.store.sqlite_connection import open_database

EVENT_OVERHEAD = 16  # bytes counted per stored event beyond its message (what a row costs, roughly)
Batch = Sequence[tuple[str, str, Sequence[tuple[int, str]]]]


@dataclass(frozen=True)
class GroupRow:
    name: str
    created_ms: int
    retention_days: int | None
    log_class: str
    tags: dict[str, str]
    stored_bytes: int


@dataclass(frozen=True)
class StreamRow:
    id: int
    group: str
    name: str
    created_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    stored_bytes: int


class EventRow(NamedTuple):
    """A tuple, not a dataclass: the log writer builds one per stored event (for its listeners) while holding the
    GIL, and a frozen dataclass's __init__ costs ~3x a tuple's."""

    id: int
    stream: str
    timestamp_ms: int
    ingested_ms: int
    message: str


@dataclass(frozen=True)
class Written:
    """Events of one stream just committed (what subscriptions and live tails are told)."""

    group: str
    stream: str
    events: tuple[EventRow, ...]


class _StreamState:
    __slots__ = ("full", "id", "size")

    def __init__(self, stream_id: int, size: int, full: bool) -> None:
        self.id = stream_id
        self.size = size
        self.full = full


_GROUP_COLUMNS = (
    "g.name, g.created_ms, g.retention_days, g.log_class, g.tags, "
    "(SELECT COALESCE(SUM(s.stored_bytes), 0) FROM log_streams s WHERE s.group_name = g.name)"
)
_STREAM_COLUMNS = "id, group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes"


def _prefix_range(prefix: str) -> tuple[str, str]:
    return prefix, prefix + "\U0010ffff"


class LogTables:
    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        SqliteStore(path).close()  # migrate, when this is the first to open the database (executor-only tests)
        self._db = open_database(path, synchronous)
        self._lock = threading.RLock()
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM log_events").fetchone()
        self._next_id = int(row[0]) + 1
        self._streams: dict[tuple[str, str], _StreamState] = {}
        self._group_bytes: dict[str, int] = {}
        self._known_groups: set[str] = set()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing events --------------------------------------------------------------------------------
    def append(
        self,
        batch: Batch,
        now_ms: int,
        max_stream_bytes: int | None = None,
        max_group_bytes: int | None = None,
        truncated: str = "",
        create: bool = True,
    ) -> list[Written]:
        """Insert events (in the given order) in one transaction. Streams (and groups) are made when `create`;
        otherwise a missing stream's events are skipped. Returns what was stored, per stream."""
        merged: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for group, stream, events in batch:
            merged.setdefault((group, stream), []).extend(events)
        written: list[Written] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                touched: set[str] = set()
                for (group, stream), events in merged.items():
                    state = self._stream_state(group, stream, now_ms, create)
                    if state is None or state.full:
                        continue
                    rows: list[tuple[int, int, int, int, str]] = []
                    added = sum(len(m) for _, m in events) + EVENT_OVERHEAD * len(events)
                    remaining = events  # what the size-checked loop below still has to take
                    if max_stream_bytes is None or state.size + added <= max_stream_bytes:
                        # The common case, in as little Python as possible: the writer holds the GIL meanwhile.
                        first_id, stream_id = self._next_id, state.id
                        self._next_id += len(events)
                        rows = [(first_id + i, stream_id, e[0], now_ms, e[1]) for i, e in enumerate(events)]
                        remaining = []
                    else:
                        added = 0
                    for ts, message in remaining:
                        size = len(message) + EVENT_OVERHEAD
                        if max_stream_bytes is not None and state.size + added + size > max_stream_bytes:
                            rows.append((self._next_id, state.id, ts, now_ms, truncated))
                            self._next_id += 1
                            added += len(truncated) + EVENT_OVERHEAD
                            state.full = True
                            break
                        rows.append((self._next_id, state.id, ts, now_ms, message))
                        self._next_id += 1
                        added += size
                    if not rows:
                        continue
                    self._db.executemany(
                        "INSERT INTO log_events (id, stream_id, ts, ingested_ms, message) VALUES (?, ?, ?, ?, ?)",
                        rows,
                    )
                    group_size = self._group_size(group)  # before this batch's bytes are counted
                    first = min(r[2] for r in rows)
                    last = max(r[2] for r in rows)
                    self._db.execute(
                        "UPDATE log_streams SET first_event_ms = MIN(COALESCE(first_event_ms, ?), ?), "
                        "last_event_ms = MAX(COALESCE(last_event_ms, ?), ?), last_ingestion_ms = ?, "
                        "stored_bytes = stored_bytes + ?, full = ? WHERE id = ?",
                        (first, first, last, last, now_ms, added, int(state.full), state.id),
                    )
                    state.size += added
                    self._group_bytes[group] = group_size + added
                    touched.add(group)
                    written.append(
                        Written(group, stream, tuple(EventRow(r[0], stream, r[2], r[3], r[4]) for r in rows))
                    )
                if max_group_bytes is not None:
                    for group in touched:
                        if self._group_bytes[group] > max_group_bytes:
                            keep = {s for g, s in merged if g == group}
                            self._shrink_group(group, max_group_bytes, keep)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._streams.clear()
                self._group_bytes.clear()
                self._known_groups.clear()
                raise
        return written

    def _stream_state(self, group: str, stream: str, now_ms: int, create: bool) -> _StreamState | None:
        state = self._streams.get((group, stream))
        if state is not None:
            return state
        if create:
            if group not in self._known_groups:
                self._db.execute("INSERT OR IGNORE INTO log_groups (name, created_ms) VALUES (?, ?)", (group, now_ms))
                self._known_groups.add(group)
            self._db.execute(
                "INSERT OR IGNORE INTO log_streams (group_name, name, created_ms) VALUES (?, ?, ?)",
                (group, stream, now_ms),
            )
        row = self._db.execute(
            "SELECT id, stored_bytes, full FROM log_streams WHERE group_name = ? AND name = ?", (group, stream)
        ).fetchone()
        if row is None:
            return None
        if len(self._streams) > 65536:
            self._streams.clear()
        state = self._streams[(group, stream)] = _StreamState(row[0], row[1], bool(row[2]))
        return state

    def _group_size(self, group: str) -> int:
        size = self._group_bytes.get(group)
        if size is None:
            row = self._db.execute(
                "SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams WHERE group_name = ?", (group,)
            ).fetchone()
            size = self._group_bytes[group] = int(row[0])
        return size

    def _shrink_group(self, group: str, limit: int, keep: set[str]) -> None:
        rows = self._db.execute(
            "SELECT id, name, stored_bytes FROM log_streams WHERE group_name = ? "
            "ORDER BY COALESCE(last_ingestion_ms, created_ms), id",
            (group,),
        ).fetchall()
        for stream_id, name, size in rows:
            if self._group_bytes[group] <= limit:
                return
            if name in keep:
                continue
            self._drop_stream(group, name, stream_id)
            self._group_bytes[group] -= size

    def _drop_stream(self, group: str, name: str, stream_id: int) -> None:
        self._db.execute("DELETE FROM log_events WHERE stream_id = ?", (stream_id,))
        self._db.execute("DELETE FROM log_streams WHERE id = ?", (stream_id,))
        self._streams.pop((group, name), None)

    # -- groups ----------------------------------------------------------------------------------------
    def create_group(self, name: str, created_ms: int, tags: dict[str, str], log_class: str) -> bool:
        """False when the group exists already."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO log_groups (name, created_ms, log_class, tags) VALUES (?, ?, ?, ?)",
                (name, created_ms, log_class, json.dumps(tags)),
            )
            self._known_groups.add(name)
            return cursor.rowcount == 1

    def delete_group(self, name: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute("DELETE FROM log_groups WHERE name = ?", (name,))
                self._db.execute(
                    "DELETE FROM log_events WHERE stream_id IN (SELECT id FROM log_streams WHERE group_name = ?)",
                    (name,),
                )
                self._db.execute("DELETE FROM log_streams WHERE group_name = ?", (name,))
                self._db.execute("DELETE FROM log_subscription_filters WHERE group_name = ?", (name,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._known_groups.discard(name)
            self._group_bytes.pop(name, None)
            for key in [k for k in self._streams if k[0] == name]:
                del self._streams[key]
            return cursor.rowcount == 1

    def group(self, name: str) -> GroupRow | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_GROUP_COLUMNS} FROM log_groups g WHERE g.name = ?", (name,)).fetchone()
        return None if row is None else _group(row)

    def groups(self, prefix: str = "", after: str | None = None, limit: int = 1 << 30) -> list[GroupRow]:
        low, high = _prefix_range(prefix)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups g WHERE g.name >= ? AND g.name < ? AND g.name > ? "
                "ORDER BY g.name LIMIT ?",
                (low, high, after if after is not None else "", limit),
            ).fetchall()
        return [_group(r) for r in rows]

    def set_retention(self, name: str, days: int | None) -> None:
        with self._lock:
            self._db.execute("UPDATE log_groups SET retention_days = ? WHERE name = ?", (days, name))

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        with self._lock:
            self._db.execute("UPDATE log_groups SET tags = ? WHERE name = ?", (json.dumps(tags), name))

    def expire(self, group: str, before_ms: int) -> int:
        """Delete the group's events older than `before_ms` (retention); how many went."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "DELETE FROM log_events WHERE ts < ? AND stream_id IN "
                    "(SELECT id FROM log_streams WHERE group_name = ?)",
                    (before_ms, group),
                )
                count = cursor.rowcount
                if count:
                    self._db.execute(
                        "UPDATE log_streams SET stored_bytes = (SELECT COALESCE(SUM(LENGTH(message) + ?), 0) "
                        "FROM log_events e WHERE e.stream_id = log_streams.id) WHERE group_name = ?",
                        (EVENT_OVERHEAD, group),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if count:
                self._group_bytes.pop(group, None)
                for key in [k for k in self._streams if k[0] == group]:
                    del self._streams[key]
            return count

    # -- streams ---------------------------------------------------------------------------------------
    def create_stream(self, group: str, name: str, created_ms: int) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO log_streams (group_name, name, created_ms) VALUES (?, ?, ?)",
                (group, name, created_ms),
            )
            return cursor.rowcount == 1

    def delete_stream(self, group: str, name: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT id, stored_bytes FROM log_streams WHERE group_name = ? AND name = ?", (group, name)
            ).fetchone()
            if row is None:
                return False
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._drop_stream(group, name, row[0])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._group_bytes.pop(group, None)
            return True

    def stream(self, group: str, name: str) -> StreamRow | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_name = ? AND name = ?", (group, name)
            ).fetchone()
        return None if row is None else StreamRow(*row)

    def streams(
        self,
        group: str,
        prefix: str = "",
        by_last_event: bool = False,
        descending: bool = False,
        offset: int = 0,
        limit: int = 1 << 30,
    ) -> list[StreamRow]:
        low, high = _prefix_range(prefix)
        direction = "DESC" if descending else "ASC"
        order = f"COALESCE(last_event_ms, 0) {direction}, name {direction}" if by_last_event else f"name {direction}"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_name = ? AND name >= ? AND name < ? "
                f"ORDER BY {order} LIMIT ? OFFSET ?",
                (group, low, high, limit, offset),
            ).fetchall()
        return [StreamRow(*r) for r in rows]

    # -- reading events --------------------------------------------------------------------------------
    def stream_events(
        self,
        stream_id: int,
        start_ms: int | None,
        end_ms: int | None,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        limit: int = 10000,
        newest_first: bool = False,
    ) -> list[EventRow]:
        """One stream's events in [start_ms, end_ms), after/before a (timestamp, id) position, oldest first
        unless `newest_first` (the latest `limit` of them, still returned in that order)."""
        where = ["stream_id = ?"]
        args: list[Any] = [stream_id]
        if start_ms is not None:
            where.append("ts >= ?")
            args.append(start_ms)
        if end_ms is not None:
            where.append("ts < ?")
            args.append(end_ms)
        if after is not None:
            where.append("(ts, id) > (?, ?)")
            args += after
        if before is not None:
            where.append("(ts, id) < (?, ?)")
            args += before
        direction = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, ts, ingested_ms, message FROM log_events WHERE {' AND '.join(where)} "
                f"ORDER BY ts {direction}, id {direction} LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [EventRow(r[0], "", r[1], r[2], r[3]) for r in rows]

    def scan(
        self,
        group: str,
        streams: Sequence[str] | None,
        prefix: str | None,
        start_ms: int | None,
        end_ms: int | None,
        after: tuple[int, int] | None,
        chunk: int = 1000,
    ) -> Iterator[EventRow]:
        """A group's events (of the named streams, or those with the prefix) by (timestamp, id), lazily: each
        stream is read in order through its index and the streams are merged, so a page costs what it reads."""
        where = ["group_name = ?"]
        args: list[Any] = [group]
        if streams is not None:
            where.append(f"name IN ({','.join('?' * len(streams))})")
            args += streams
        if prefix:
            low, high = _prefix_range(prefix)
            where.append("name >= ? AND name < ?")
            args += [low, high]
        if start_ms is not None:
            where.append("last_event_ms >= ?")
            args.append(start_ms)
        if end_ms is not None:
            where.append("first_event_ms <= ?")
            args.append(end_ms)
        with self._lock:
            chosen = self._db.execute(
                f"SELECT id, name FROM log_streams WHERE {' AND '.join(where)} AND first_event_ms IS NOT NULL", args
            ).fetchall()
        end = None if end_ms is None else end_ms + 1  # FilterLogEvents' endTime is inclusive
        readers = [self._read_stream(sid, name, start_ms, end, after, chunk) for sid, name in chosen]
        yield from heapq.merge(*readers, key=lambda e: (e.timestamp_ms, e.id))

    def _read_stream(
        self,
        stream_id: int,
        name: str,
        start_ms: int | None,
        end_ms: int | None,
        after: tuple[int, int] | None,
        chunk: int,
    ) -> Iterator[EventRow]:
        position = after
        while True:
            rows = self.stream_events(stream_id, start_ms, end_ms, after=position, limit=chunk)
            for row in rows:
                yield EventRow(row.id, name, row.timestamp_ms, row.ingested_ms, row.message)
            if len(rows) < chunk:
                return
            position = (rows[-1].timestamp_ms, rows[-1].id)

    # -- subscription filters --------------------------------------------------------------------------
    def put_subscription(self, group: str, name: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO log_subscription_filters (group_name, name, body) VALUES (?, ?, ?) "
                "ON CONFLICT (group_name, name) DO UPDATE SET body = excluded.body",
                (group, name, json.dumps(body)),
            )

    def delete_subscription(self, group: str, name: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM log_subscription_filters WHERE group_name = ? AND name = ?", (group, name)
            )
            return cursor.rowcount == 1

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM log_subscription_filters ORDER BY group_name, name").fetchall()
        return [json.loads(r[0]) for r in rows]


def _group(row: tuple[Any, ...]) -> GroupRow:
    return GroupRow(row[0], row[1], row[2], row[3], json.loads(row[4]), int(row[5]))
