"""When a store writer thread pays for an fsync: the commit policy of the SQLite group-commit writers.

The writer never waits to fill a batch. It commits as soon as it is free, with whatever has queued (see
`group_commit.take_batch`): a lone caller gets its own commit at once, and batches form by themselves while a
commit is on disk, so many concurrent callers share one fsync. What this policy adds is the choice of how
each batch is committed, from the durability its jobs need:

    DURABLE   on disk before the caller is answered: synchronous=FULL (the configured level), one WAL fsync.
              An accepted async event, a retry's attempt counts, a function's events dropped.
    LAZY      written to the WAL (so it survives kill -9 of the process) but its fsync may ride on a later
              commit: synchronous=NORMAL. What a power loss may undo is only redone, never lost: a lease
              (released on every start anyway), a completion (the event is delivered again: at least once).

A batch with any DURABLE job commits at the durable level; an all-LAZY batch commits lazily, unless lazy
writes have waited `max_lag_s` for an fsync, in which case this one pays for it. A writer with nothing to do
asks `idle_timeout()` how long it may sleep before it must sync the lazy writes still pending (`flushed()`),
so after a power loss at most `max_lag_s` of completions are redelivered.

Invariants: a DURABLE job is never committed below the durable level; a lazy write is synced within
`max_lag_s` of its commit once the writer is idle or at its next commit after that. Time comes from the
injected clock (monotonic), so the policy is tested in virtual time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from lamina.clock import Clock

_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


class Durability(enum.Enum):
    DURABLE = "durable"
    LAZY = "lazy"


class CommitPolicy:
    def __init__(self, clock: Clock, durable: str = "FULL", max_lag_s: float = 1.0) -> None:
        durable = durable.upper()
        if durable not in _LEVELS:
            raise ValueError(f"unknown SQLite synchronous level {durable!r}")
        self._clock = clock
        self.durable = durable
        # Lazy is never stronger than what the operator configured (synchronous=OFF stays OFF).
        self.lazy = durable if _LEVELS.index(durable) < _LEVELS.index("NORMAL") else "NORMAL"
        self.max_lag_s = max_lag_s
        self._unsynced_since: float | None = None  # monotonic time of the oldest lazy commit not yet synced

    @property
    def pending(self) -> bool:
        """Whether lazy commits wait for an fsync."""
        return self._unsynced_since is not None and self.lazy != self.durable

    def level(self, batch: Iterable[Durability]) -> str:
        """The `PRAGMA synchronous` level to commit this batch with."""
        if any(d is Durability.DURABLE for d in batch) or self._overdue():
            return self.durable
        return self.lazy

    def committed(self, level: str) -> None:
        """Called after a batch committed at `level`: a durable commit syncs every lazy write before it."""
        if level == self.durable:
            self._unsynced_since = None
        elif self._unsynced_since is None:
            self._unsynced_since = self._clock.monotonic()

    def idle_timeout(self) -> float | None:
        """How long an idle writer may wait for a job before it must sync pending lazy writes (None: forever)."""
        if not self.pending:
            return None
        assert self._unsynced_since is not None
        return max(self._unsynced_since + self.max_lag_s - self._clock.monotonic(), 0.0)

    def flushed(self) -> None:
        """Called after the writer synced the WAL outside a commit."""
        self._unsynced_since = None

    def _overdue(self) -> bool:
        timeout = self.idle_timeout()
        return timeout is not None and timeout <= 0.0
