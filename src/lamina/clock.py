"""An injectable clock, so timeouts, backoff, idle reaping and schedules run in virtual time in tests.

Every component that needs "now" or needs to wait takes a `Clock`. Production uses `SystemClock`;
tests use `ManualClock` and advance it explicitly, so a 100-second timeout is tested in microseconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps shown to users)."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (for durations and deadlines)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to. `sleep` returns once `advance` has passed its deadline."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + seconds, fut))
        await fut

    async def until_sleeping(self, count: int = 1, timeout: float = 30.0) -> None:
        """Waits (in real time, at most `timeout` seconds) until `count` tasks sleep on this clock: a task whose
        step awaits a writer thread has not slept yet, and an `advance` made before it sleeps would pass it by."""
        deadline = time.monotonic() + timeout
        while sum(not fut.done() for _, fut in self._sleepers) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} sleeper(s) expected on the manual clock")
            await asyncio.sleep(0.001)

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds
        due = [s for s in self._sleepers if s[0] <= self._mono]
        self._sleepers = [s for s in self._sleepers if s[0] > self._mono]
        for _, fut in sorted(due, key=lambda s: s[0]):
            if not fut.done():
                fut.set_result(None)
