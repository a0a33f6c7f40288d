"""Group commit: a writer thread takes every job waiting for it and commits them in one transaction, so many
concurrent writers share one fsync. Used by the async event queue and the SQS and DynamoDB stores."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

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
