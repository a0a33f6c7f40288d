"""X-Ray segment documents on SQLite (the table of migration 0014).

A row is one segment document as sent (its subsegments inside it, or sent apart as their own documents with
`type: subsegment`), keyed by (trace id, segment id): a document sent again replaces the earlier one, which is how
an in-progress segment is completed. One connection, used from the event loop only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina.store.documents import SqliteStore
from lamina.store.sqlite_connection import open_database


@dataclass(frozen=True)
class SegmentRow:
    trace_id: str
    id: str
    trace_start: float  # the epoch second in the trace id
    start_time: float
    end_time: float | None  # None while in progress
    document: str  # the JSON text: one document, or a list of them (Lambda's two segments of one invocation)


class TraceTables:
    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        SqliteStore(path).close()  # migrate, when this is the first to open the database
        self._db = open_database(path, synchronous)

    def close(self) -> None:
        self._db.close()

    def add(self, rows: Sequence[SegmentRow]) -> None:
        """Stores every row in one transaction (committed when this returns)."""
        if not rows:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO xray_segments (trace_id, id, trace_start, start_time, end_time, document) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(r.trace_id, r.id, r.trace_start, r.start_time, r.end_time, r.document) for r in rows],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def trace_ids(self, start: float, end: float, by_trace_start: bool, limit: int) -> list[str]:
        """Traces with a segment in [start, end): by the trace id's own time, or by the segments' start times
        (TimeRangeType TraceId / Event); newest first."""
        column = "trace_start" if by_trace_start else "start_time"
        rows = self._db.execute(
            f"SELECT trace_id, MAX({column}) AS t FROM xray_segments WHERE {column} >= ? AND {column} < ? "
            "GROUP BY trace_id ORDER BY t DESC LIMIT ?",
            (start, end, limit),
        )
        return [trace_id for trace_id, _t in rows]

    def documents(self, trace_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Trace id → (segment id, document) of its segments, oldest first."""
        out: dict[str, list[tuple[str, str]]] = {}
        for i in range(0, len(trace_ids), 500):
            chunk = list(trace_ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for trace_id, sid, doc in self._db.execute(
                f"SELECT trace_id, id, document FROM xray_segments WHERE trace_id IN ({marks}) ORDER BY start_time",
                chunk,
            ):
                out.setdefault(trace_id, []).append((sid, doc))
        return out

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM xray_segments").fetchone()[0])

    def sweep(self, before: float) -> int:
        """Deletes the segments that started before `before` (epoch seconds); how many went."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            gone = db.execute("DELETE FROM xray_segments WHERE start_time < ?", (before,)).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(gone)
