"""A one-shot timer on the injected clock.

Why not always `clock.sleep` in a task: on the warm-invoke hot path a task costs ~20 us, a loop timer
handle ~1 us. With the real clock we use the loop's timer; with any other clock (virtual time in tests)
a task awaits `clock.sleep`, so timeouts are tested without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..clock import Clock, SystemClock


class Timer:
    __slots__ = ("_handle", "_task")

    def __init__(self, clock: Clock, seconds: float, callback: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        if type(clock) is SystemClock:
            self._handle = loop.call_later(seconds, callback)
        else:
            # The deadline is fixed now, not when the task first runs: time may move in between.
            self._task = loop.create_task(self._wait(clock, clock.monotonic() + seconds, callback))

    @staticmethod
    async def _wait(clock: Clock, deadline: float, callback: Callable[[], None]) -> None:
        await clock.sleep(deadline - clock.monotonic())
        callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._task is not None:
            self._task.cancel()
