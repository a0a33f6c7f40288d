"""Group commit: a writer thread takes every job waiting for it and commits them in one transaction, so many
concurrent writers share one fsync. Used by the async event queue and the SQS and DynamoDB stores."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lamina.store.sqlite_connection import open_database

Job = TypeVar("Job", bound=tuple[Any, ...])


def take_batch(
    jobs: queue.Queue[Job] | queue.SimpleQueue[Job], stop: object, timeout: float | None = None
) -> tuple[list[Job], bool]:
    """Blocks for the first job (at most `timeout` seconds: then no jobs), then takes whatever else is
    already queued, without waiting for more: a lone caller is never held back for company. Returns the jobs
    (the stop marker removed) and whether the marker was among them (the writer stops after this batch)."""
    try:
        batch = [jobs.get(timeout=timeout)]
    except queue.Empty:
        return [], False
    while True:
        try:
            batch.append(jobs.get_nowait())
        except queue.Empty:
            break
    stopping = any(job[0] is stop for job in batch)
    return [job for job in batch if job[0] is not stop], stopping


def commit_jobs(db: sqlite3.Connection, batch: list[tuple[Callable[[sqlite3.Connection], Any], Any]]) -> None:
    """Runs every job's work in one transaction (all or none), then settles the waiting futures (None for
    fire-and-forget jobs) on their loop: the result, or the error that rolled the batch back. Called on the
    writer thread; a waiting loop that has closed is nobody left to tell."""
    error: Exception | None = None
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            for work, _ in batch:
                work(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    except Exception as exc:
        error = exc
    futures: list[asyncio.Future[Any]] = [fut for _, fut in batch if fut is not None]
    if not futures:
        return

    def settle() -> None:
        for fut in futures:
            if not fut.done():
                if error is not None:
                    fut.set_exception(error)
                else:
                    fut.set_result(None)

    try:
        futures[0].get_loop().call_soon_threadsafe(settle)
    except RuntimeError:
        pass


_STOP: Any = object()
WriteJob = tuple[Callable[[sqlite3.Connection], Any] | Any, "asyncio.Future[None] | None"]


class GroupCommitWriter:
    """A store's own connection to the database file (open it after `SqliteStore` has migrated it) and its
    writer thread: `_write` queues work and waits for the group commit that includes it, `_write_later` queues
    work nobody waits for (still committed, in order), `close` commits what is queued and stops the thread."""

    def __init__(self, path: Path, synchronous: str, thread_name: str) -> None:
        self._db = open_database(path, synchronous)
        self._jobs: queue.SimpleQueue[WriteJob] = queue.SimpleQueue()
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch, stop = take_batch(self._jobs, _STOP)
            commit_jobs(self._db, batch)
            self.batches += 1
            if stop:
                break
        self._db.close()

    async def _write(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put((work, fut))
        await fut

    def _write_later(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self._jobs.put((work, None))

    async def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._jobs.put((_STOP, None))
        await asyncio.to_thread(self._thread.join)
