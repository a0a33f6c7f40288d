"""Group commit: a writer thread takes every job waiting for it and commits them in one transaction, so many
concurrent writers share one fsync. Used by the async event queue and the SQS store."""

from __future__ import annotations

import queue
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
