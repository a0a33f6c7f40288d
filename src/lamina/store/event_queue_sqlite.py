"""The async event queue on SQLite, with group commit.

Every queue operation (put, lease, reschedule, complete, drop) becomes a small job for one writer thread
that owns its own connection to the data directory's database. The thread takes every job waiting, runs
them in ONE transaction, commits, and only then resolves their futures. It never waits for company: a lone
caller's job is committed at once, and while a commit is on disk new requests accumulate and share the
next one, so durability costs one fsync per batch, not per event.

How a batch is committed is the `CommitPolicy`'s choice (store/commit_policy.py): a put, a reschedule and a
drop are DURABLE (synchronous=FULL: one WAL fsync before the caller hears of it); a lease, a completion and
the reads are LAZY (synchronous=NORMAL: in the WAL, safe from kill -9, synced by the next durable commit or
within a second). So the pollers' bookkeeping does not put extra fsyncs in front of the next caller's 202.

Invariants: a `put` resolves only after its rows are committed with an fsync, so a 202 is never sent for
an event a crash could lose; jobs run in submission order, so a function's `drop_function` never removes
events accepted after it; a failed transaction fails every job in it (their callers answer 500: nothing
accepted is lost). On start, leases left by a previous process are released: the embedded store has one node, so
those attempts died with it and are redelivered (at least once).
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lamina.clock import Clock, SystemClock
from lamina.invoke.event_queue import EventState, QueuedEvent
from lamina.store.commit_policy import CommitPolicy, Durability
from lamina.store.group_commit import take_batch

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], Durability]
DURABLE, LAZY = Durability.DURABLE, Durability.LAZY

_COLUMNS = (
    "id, function_key, invoked_arn, request_id, payload, enqueued_at, next_at, attempts, throttles, state, "
    "last_response, trace_header"
)
_STOP: Any = object()


def _event(row: tuple[Any, ...]) -> QueuedEvent:
    return QueuedEvent(
        id=row[0],
        function_key=row[1],
        invoked_arn=row[2],
        request_id=row[3],
        payload=bytes(row[4]),
        enqueued_at=row[5],
        next_at=row[6],
        attempts=row[7],
        throttles=row[8],
        state=EventState(row[9]),
        last_response=row[10],
        trace_header=row[11],
    )


class SqliteEventQueue:
    """Open after `SqliteStore` has migrated the database (the table comes from migrations 0002 and 0011)."""

    def __init__(self, path: Path, synchronous: str = "FULL", owner: str = "local", clock: Clock | None = None) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._policy = CommitPolicy(clock or SystemClock(), synchronous)
        self._level = self._policy.durable
        self._db.execute(f"PRAGMA synchronous={self._level}")
        self._wal = Path(f"{path}-wal")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._owner = owner
        self._db.execute(
            "UPDATE async_events SET state = ?, lease_owner = NULL, lease_until = NULL WHERE state = ?",
            (EventState.QUEUED, EventState.LEASED),
        )
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lamina-event-queue", daemon=True)
        self._thread.start()
        self.batches = 0  # transactions committed (bench and tests read it)
        self.jobs = 0
        self.commits: Counter[str] = Counter()  # transactions by synchronous level, and WAL syncs ("flush")

    # -- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch, stop = take_batch(self._jobs, _STOP, self._policy.idle_timeout())
            if batch:
                self._commit(batch)
            elif not stop:
                self._flush()
            if stop:
                break
        self._db.close()

    def _flush(self) -> None:
        """Syncs the WAL, so the lazy commits in it are on disk (idle for `max_lag_s`)."""
        try:
            fd = os.open(self._wal, os.O_RDONLY)
        except FileNotFoundError:
            self._policy.flushed()  # no WAL: every commit was checkpointed into the synced database
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._policy.flushed()
        self.commits["flush"] += 1

    def _commit(self, batch: list[Job]) -> None:
        results: list[Any] = []
        level = self._policy.level(job[2] for job in batch)
        try:
            if level != self._level:
                self._db.execute(f"PRAGMA synchronous={level}")
                self._level = level
            self._db.execute("BEGIN IMMEDIATE")
            try:
                results = [work(self._db) for work, _, _ in batch]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except Exception as exc:
            self._settle([(fut, None, exc) for _, fut, _ in batch])
            return
        self._policy.committed(level)
        self.batches += 1
        self.jobs += len(batch)
        self.commits[level] += 1
        self._settle([(fut, result, None) for (_, fut, _), result in zip(batch, results, strict=True)])

    @staticmethod
    def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
        """Resolves a whole batch with one wake-up of the event loop (there is one loop per process)."""

        def settle() -> None:
            for fut, result, exc in outcomes:
                if fut.done():
                    continue
                if exc is not None:
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)

        if outcomes:
            outcomes[0][0].get_loop().call_soon_threadsafe(settle)

    async def _submit(self, work: Callable[[sqlite3.Connection], T], durability: Durability) -> T:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((work, fut, durability))
        return await fut

    # -- EventQueue -----------------------------------------------------------------------------
    async def put(self, events: Sequence[QueuedEvent]) -> None:
        rows = [
            (
                e.id,
                e.function_key,
                e.invoked_arn,
                e.request_id,
                e.payload,
                e.enqueued_at,
                e.next_at,
                e.attempts,
                e.throttles,
                EventState.QUEUED.value,
                e.last_response,
                e.trace_header,
            )
            for e in events
        ]

        def work(db: sqlite3.Connection) -> None:
            db.executemany(f"INSERT INTO async_events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

        await self._submit(work, DURABLE)  # the 202 is sent after this: the event must be on disk

    async def lease(self, now: float, limit: int, lease_s: float) -> list[QueuedEvent]:
        def work(db: sqlite3.Connection) -> list[QueuedEvent]:
            rows = db.execute(
                f"UPDATE async_events SET state = ?, lease_owner = ?, lease_until = ? WHERE id IN ("
                "  SELECT id FROM async_events WHERE next_at <= ? AND (state = ? OR lease_until < ?)"
                f"  ORDER BY next_at LIMIT ?) RETURNING {_COLUMNS}",
                (EventState.LEASED, self._owner, now + lease_s, now, EventState.QUEUED, now, limit),
            ).fetchall()
            return sorted((_event(r) for r in rows), key=lambda e: e.next_at)

        return await self._submit(work, LAZY)  # every start releases leases: one lost to a power cut is moot

    async def reschedule(self, event: QueuedEvent) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE async_events SET state = ?, lease_owner = NULL, lease_until = NULL, next_at = ?, "
                "attempts = ?, throttles = ?, last_response = ? WHERE id = ?",
                (EventState.QUEUED, event.next_at, event.attempts, event.throttles, event.last_response, event.id),
            )

        await self._submit(work, DURABLE)  # the attempt counts bound the retries: keep them

    async def complete(self, event_id: str) -> None:
        # Lost to a power cut (not to kill -9), the event is delivered again: at least once, never lost.
        await self._submit(lambda db: db.execute("DELETE FROM async_events WHERE id = ?", (event_id,)), LAZY)

    async def drop_function(self, function_key: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM async_events WHERE function_key = ?", (function_key,)).rowcount

        return await self._submit(work, DURABLE)

    async def next_due(self) -> float | None:
        def work(db: sqlite3.Connection) -> float | None:
            row = db.execute(
                "SELECT MIN(CASE WHEN state = ? THEN lease_until ELSE next_at END) FROM async_events",
                (EventState.LEASED,),
            ).fetchone()
            return None if row[0] is None else float(row[0])

        return await self._submit(work, LAZY)

    async def count(self) -> int:
        return await self._submit(lambda db: int(db.execute("SELECT COUNT(*) FROM async_events").fetchone()[0]), LAZY)

    async def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._jobs.put((_STOP, asyncio.get_running_loop().create_future(), LAZY))
        await asyncio.to_thread(self._thread.join)
