"""One task that fires keyed deadlines on the project's clock.

The owner says when each key is next due (`set(key, at)`, epoch seconds on `clock.time()`; None cancels);
when a deadline comes the timer calls `on_due(key)` in a task of its own and forgets the key, so the owner
sets the following deadline after firing. Sleeping goes through `clock.sleep`, so under a `ManualClock` a
virtual hour of fires takes as long as the test takes to advance it. A real clock may be stepped (NTP):
no sleep is longer than `MAX_SLEEP`, after which the deadlines are looked at again.

Deadlines sit in a heap with lazy deletion (a replaced or cancelled entry stays until it surfaces and is
skipped), so setting and firing cost O(log n) with many thousands of schedules.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable

from lamina.clock import Clock

log = logging.getLogger(__name__)

MAX_SLEEP = 30.0


class Timer:
    def __init__(self, clock: Clock, on_due: Callable[[str], Awaitable[None]]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._due: dict[str, tuple[float, int]] = {}  # key → (deadline, entry number): the live entry
        self._heap: list[tuple[float, int, str]] = []
        self._numbers = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._firing: set[asyncio.Task[None]] = set()
        self._closed = False

    def set(self, key: str, at: float | None) -> None:
        if at is None:
            if self._due.pop(key, None) is None:
                return
        else:
            number = next(self._numbers)
            self._due[key] = (at, number)
            heapq.heappush(self._heap, (at, number, key))
            if self._heap[0][1] != number:  # not the earliest: the sleeping loop need not wake
                return
        self._wake.set()

    def due_at(self, key: str) -> float | None:
        found = self._due.get(key)
        return None if found is None else found[0]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        self._closed = True
        tasks = [t for t in (self._task, *self._firing) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        while not self._closed:
            now = self._clock.time()
            heap = self._heap
            while heap and (heap[0][0] <= now or self._due.get(heap[0][2], (0, -1))[1] != heap[0][1]):
                _, number, key = heapq.heappop(heap)
                if self._due.get(key, (0, -1))[1] != number:
                    continue  # replaced or cancelled
                del self._due[key]
                task = asyncio.get_running_loop().create_task(self._fire(key))
                self._firing.add(task)
                task.add_done_callback(self._firing.discard)
            self._wake.clear()
            wait = (heap[0][0] if heap else now + MAX_SLEEP) - now
            sleeper = asyncio.ensure_future(self._clock.sleep(min(max(wait, 0.0), MAX_SLEEP)))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    async def _fire(self, key: str) -> None:
        try:
            await self._on_due(key)
        except Exception:  # one schedule's failure never stops the others
            log.exception("firing %s failed", key)
