"""CloudWatch metric series and their 1-minute points on SQLite (tables of migrations 0012 and 0015).

A point is (series, minute, unit) → sample count, sum, minimum, maximum: values are aggregated on write (an
upsert adds to the bucket), never recomputed on read. Beside it, in its own table so reads of the basic
statistics never touch them, the point's bounded distribution (metric_distribution.py), merged on write by a
SQLite function and read only for percentiles. One connection, used from the event loop only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina.store.documents import SqliteStore
from lamina.store.metric_distribution import Distribution, MergedDistribution, merge_blobs
from lamina.store.sqlite_connection import open_database

Dimensions = tuple[tuple[str, str], ...]  # sorted by name
BLOCK_SPANS = (10, 60)  # minutes: the blocks distributions are also merged into (migration 0015)


@dataclass(frozen=True)
class Bucket:
    namespace: str
    name: str
    dimensions: Dimensions
    minute: int  # epoch seconds // 60
    unit: str
    samples: float
    total: float
    minimum: float
    maximum: float
    distribution: Distribution | None = None


@dataclass(frozen=True)
class Aggregate:
    """The points of one period (start in epoch seconds); `distribution` only when asked for."""

    start: int
    unit: str
    samples: float
    total: float
    minimum: float
    maximum: float
    distribution: MergedDistribution | None = None


@dataclass(frozen=True)
class Series:
    namespace: str
    name: str
    dimensions: Dimensions
    last_ms: int


def dimensions_key(dimensions: Dimensions) -> str:
    return json.dumps(dimensions, separators=(",", ":"))


class MetricTables:
    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        SqliteStore(path).close()  # migrate, when this is the first to open the database
        self._db = open_database(path, synchronous)
        self._db.create_function("lamina_merge_distribution", 2, merge_blobs, deterministic=True)
        self._ids: dict[tuple[str, str, str], int] = {}
        for sid, namespace, name, dims in self._db.execute("SELECT id, namespace, name, dimensions FROM metric_series"):
            self._ids[(namespace, name, dims)] = sid

    def close(self) -> None:
        self._db.close()

    def add(self, buckets: Sequence[Bucket], now_ms: int) -> None:
        """Adds every bucket to its stored point, in one transaction (committed when this returns)."""
        if not buckets:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = []
            distributions = []
            touched: set[int] = set()
            for b in buckets:
                sid = self._series_id(b.namespace, b.name, dimensions_key(b.dimensions), now_ms)
                touched.add(sid)
                rows.append((sid, b.minute, b.unit, b.samples, b.total, b.minimum, b.maximum))
                if b.distribution is not None:
                    distributions.append((sid, b.minute, b.unit, b.distribution.encode()))
            db.executemany(
                "INSERT INTO metric_points (series_id, minute, unit, samples, total, minimum, maximum) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, minute, unit) DO UPDATE SET "
                "samples = samples + excluded.samples, total = total + excluded.total, "
                "minimum = MIN(minimum, excluded.minimum), maximum = MAX(maximum, excluded.maximum)",
                rows,
            )
            if distributions:
                db.executemany(
                    "INSERT INTO metric_distributions (series_id, minute, unit, distribution) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (series_id, minute, unit) DO UPDATE SET "
                    "distribution = lamina_merge_distribution(distribution, excluded.distribution)",
                    distributions,
                )
                for span in BLOCK_SPANS:
                    db.executemany(
                        "INSERT INTO metric_distribution_blocks (series_id, span, block, unit, distribution) "
                        f"VALUES (?, {span}, ? / {span} * {span}, ?, ?) "
                        "ON CONFLICT (series_id, span, block, unit) DO UPDATE SET "
                        "distribution = lamina_merge_distribution(distribution, excluded.distribution)",
                        distributions,
                    )
            db.executemany("UPDATE metric_series SET last_ms = ? WHERE id = ?", [(now_ms, sid) for sid in touched])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._ids = {k: v for k, v in self._ids.items() if self._exists(v)}
            raise

    def _exists(self, sid: int) -> bool:
        return self._db.execute("SELECT 1 FROM metric_series WHERE id = ?", (sid,)).fetchone() is not None

    def _series_id(self, namespace: str, name: str, dims: str, now_ms: int) -> int:
        key = (namespace, name, dims)
        sid = self._ids.get(key)
        if sid is None:
            cur = self._db.execute(
                "INSERT INTO metric_series (namespace, name, dimensions, last_ms) VALUES (?, ?, ?, ?)",
                (namespace, name, dims, now_ms),
            )
            sid = self._ids[key] = int(cur.lastrowid or 0)
        return sid

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
        """Periods of `period` seconds from `start` (epoch seconds, inclusive) to `end` (exclusive) that have
        points, oldest first, per unit; with `distributions`, each period's merged distribution when every value
        in it has one (else None: no percentiles)."""
        sid = self._ids.get((namespace, name, dimensions_key(dimensions)))
        if sid is None:
            return []
        per = max(1, period // 60)
        first = start // 60
        where = "WHERE series_id = ? AND minute >= ? AND minute < ?"
        args: list[object] = [first, per, sid, first, -(-end // 60)]
        if unit is not None:
            where += " AND unit = ?"
            args.append(unit)
        sql = (
            "SELECT (minute - ?) / ? AS slot, unit, SUM(samples), SUM(total), MIN(minimum), MAX(maximum) "
            f"FROM metric_points {where} GROUP BY slot, unit ORDER BY slot"
        )
        found = [
            Aggregate(start + int(slot) * period, u, n, total, lo, hi)
            for slot, u, n, total, lo, hi in self._db.execute(sql, args)
        ]
        if not distributions or not found:
            return found
        merged: dict[tuple[int, str], MergedDistribution] = {}
        for slot, u, blob in self._distribution_rows(sid, first, -(-end // 60), per, unit):
            had = merged.get((int(slot), u))
            if had is None:
                had = merged[(int(slot), u)] = MergedDistribution()
            had.add_blob(blob)
        out = []
        for agg in found:
            dist = merged.get(((agg.start - start) // period, agg.unit))
            if dist is not None and abs(dist.count - agg.samples) <= 1e-9 * max(1.0, agg.samples):
                out.append(Aggregate(agg.start, agg.unit, agg.samples, agg.total, agg.minimum, agg.maximum, dist))
            else:
                out.append(agg)
        return out

    def _distribution_rows(
        self, sid: int, first: int, last: int, per: int, unit: str | None
    ) -> Iterable[tuple[int, str, bytes]]:
        """(slot, unit, distribution) rows covering minutes [first, last) in slots of `per` minutes: each minute
        from the largest block (BLOCK_SPANS) that lies whole inside its slot, else from the minute's own row. The
        plan is made here and each table is read by key (`json_each` of the wanted starts), never scanned."""
        wanted: dict[int, list[int]] = {span: [] for span in (*BLOCK_SPANS, 1)}
        spans = sorted(BLOCK_SPANS, reverse=True)
        for slot_start in range(first, last, per):
            _cover(slot_start, min(slot_start + per, last), spans, wanted)
        unit_sql = "" if unit is None else " AND unit = ?"
        unit_arg: list[object] = [] if unit is None else [unit]
        for span in BLOCK_SPANS:
            if wanted[span]:
                yield from self._db.execute(
                    "SELECT (block - ?) / ?, unit, distribution FROM metric_distribution_blocks "
                    "WHERE series_id = ? AND span = ? AND block IN (SELECT value FROM json_each(?))" + unit_sql,
                    [first, per, sid, span, json.dumps(wanted[span]), *unit_arg],
                )
        if wanted[1]:
            yield from self._db.execute(
                "SELECT (minute - ?) / ?, unit, distribution FROM metric_distributions "
                "WHERE series_id = ? AND minute IN (SELECT value FROM json_each(?))" + unit_sql,
                [first, per, sid, json.dumps(wanted[1]), *unit_arg],
            )

    def series(self, namespace: str | None, name: str | None, since_ms: int) -> Iterable[Series]:
        sql = "SELECT namespace, name, dimensions, last_ms FROM metric_series WHERE last_ms >= ?"
        args: list[object] = [since_ms]
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        sql += " ORDER BY namespace, name, dimensions"
        for namespace_, name_, dims, last_ms in self._db.execute(sql, args):
            yield Series(namespace_, name_, tuple((k, v) for k, v in json.loads(dims)), last_ms)

    def sweep(self, before_minute: int) -> int:
        """Deletes the points older than `before_minute` (and series with none left); how many points went."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            gone = db.execute("DELETE FROM metric_points WHERE minute < ?", (before_minute,)).rowcount
            db.execute("DELETE FROM metric_distributions WHERE minute < ?", (before_minute,))
            db.execute("DELETE FROM metric_distribution_blocks WHERE block + span <= ?", (before_minute,))
            if gone:
                db.execute(
                    "DELETE FROM metric_series WHERE last_ms < ? AND id NOT IN "
                    "(SELECT DISTINCT series_id FROM metric_points)",
                    (before_minute * 60_000,),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if gone:
            live = {sid for (sid,) in db.execute("SELECT id FROM metric_series")}
            self._ids = {k: v for k, v in self._ids.items() if v in live}
        return int(gone)


def _cover(start: int, end: int, spans: list[int], wanted: dict[int, list[int]]) -> None:
    """Adds to `wanted[span]` the starts of the blocks (largest spans first, then single minutes) that tile the
    minutes [start, end)."""
    if start >= end:
        return
    if not spans:
        wanted[1].extend(range(start, end))
        return
    span, smaller = spans[0], spans[1:]
    inner_start = -(-start // span) * span
    inner_end = end // span * span
    if inner_start >= inner_end:
        _cover(start, end, smaller, wanted)
        return
    _cover(start, inner_start, smaller, wanted)
    wanted[span].extend(range(inner_start, inner_end, span))
    _cover(inner_end, end, smaller, wanted)
