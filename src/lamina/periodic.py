"""Background work repeated on the project's clock: retention sweeps, TTL deletes, flushes.

`every(clock, seconds, step, failure)` starts a task that waits `seconds` of `clock` time and runs `step`
(a plain or async callable), for ever; a step that raises is logged with `failure` and tried again at the next
interval, so one bad sweep never stops the next. `cancel(task)` stops it and waits until it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lamina.clock import Clock

log = logging.getLogger("lamina.periodic")


def every(
    clock: Clock, seconds: float, step: Callable[[], Awaitable[Any] | Any], failure: str, first_now: bool = False
) -> asyncio.Task[None]:
    """Runs `step` every `seconds` of `clock` time from the running loop (with `first_now`, also once at the start);
    `failure` is logged when it raises."""

    async def run() -> None:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception(failure)

    async def repeat() -> None:
        if first_now:
            await run()
        while True:
            await clock.sleep(seconds)
            await run()

    return asyncio.get_running_loop().create_task(repeat())


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Stops a task started by `every` (or any task) and waits for it; None is allowed."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
