"""Group commit: a writer thread takes every job waiting for it and commits them in one transaction, so many
concurrent writers share one fsync. Used by the async event queue and the SQS store."""

from __future__ import annotations

import queue
from typing import Any, TypeVar

Job = TypeVar("Job", bound=tuple[Any, ...])


def take_batch(jobs: queue.Queue[Job] | queue.SimpleQueue[Job], stop: object) -> tuple[list[Job], bool]:
    """Blocks for the first job, then takes whatever else is already queued. Returns the jobs (the stop
    marker removed) and whether the marker was among them (the writer should stop after this batch)."""
    batch = [jobs.get()]
    while True:
        try:
            batch.append(jobs.get_nowait())
        except queue.Empty:
            break
    stopping = any(job[0] is stop for job in batch)
    return [job for job in batch if job[0] is not stop], stopping
