"""Readiness of every execution environment's output pipe, through one epoll, paused while an invocation runs.

A function that prints during a short invocation would otherwise wake the event loop twice: once for the pipe,
once for its result. The second wake-up alone suffices, because the platform reads the pipe to its end before
writing END (see capture.py's ordering invariant). So while an invocation runs its pipe is paused (left out of
readiness) and read when the result comes. Pausing must cost less than the wake-up it saves: asyncio's
add_reader/remove_reader build and tear down a poll handle each time (~10 us on uvloop), an `epoll_ctl` on an
epoll of our own is one syscall. That epoll's own descriptor is what the event loop watches.

Paused is never stuck: a pipe paused for over one sweep interval (`RESUME_AFTER`, 2-4 ms, on the loop's own timer:
this is flow control of a pipe, not platform time, so virtual-time tests do not govern it) is resumed, so a long
invocation's output still flows as it is written (live tails, `aws logs tail --follow`) and a function writing
more than a pipe holds (64 KiB) blocks for at most that long. The capture does not pause an environment whose last
invocation wrote more than a quarter of that, so a function that logs heavily does not pay the wait each time. A
hang-up (the runtime gone) is reported even while paused.
"""

from __future__ import annotations

import asyncio
import select
import weakref
from collections.abc import Callable

RESUME_AFTER = 0.002  # seconds between sweeps; a pipe paused before the previous sweep is resumed at the next


class OutputWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._readers: dict[int, Callable[[], None]] = {}
        self._paused: dict[int, int] = {}  # fd → the sweep generation it was paused in
        self._generation = 0
        self._sweep: asyncio.TimerHandle | None = None
        loop.add_reader(self._epoll.fileno(), self._on_ready)

    def watch(self, fd: int, on_readable: Callable[[], None]) -> None:
        self._readers[fd] = on_readable
        self._epoll.register(fd, select.EPOLLIN)

    def forget(self, fd: int) -> None:
        """Before `fd` is closed."""
        if self._readers.pop(fd, None) is not None:
            self._paused.pop(fd, None)
            self._epoll.unregister(fd)

    def pause(self, fd: int) -> None:
        if fd in self._paused or fd not in self._readers:
            return
        self._epoll.modify(fd, 0)  # EPOLLHUP and EPOLLERR are still reported
        self._paused[fd] = self._generation
        if self._sweep is None:
            self._sweep = self._loop.call_later(RESUME_AFTER, self._resume_stale)

    def resume(self, fd: int) -> None:
        if self._paused.pop(fd, None) is not None:
            self._epoll.modify(fd, select.EPOLLIN)

    def _resume_stale(self) -> None:
        generation = self._generation
        stale = [fd for fd, paused_in in self._paused.items() if paused_in < generation]
        for fd in stale:
            self.resume(fd)
        self._generation = generation + 1
        self._sweep = self._loop.call_later(RESUME_AFTER, self._resume_stale) if self._paused else None

    def _on_ready(self) -> None:
        for fd, _events in self._epoll.poll(0):
            reader = self._readers.get(fd)
            if reader is not None:
                reader()

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()


_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OutputWatch] = weakref.WeakKeyDictionary()


def for_loop(loop: asyncio.AbstractEventLoop) -> OutputWatch:
    """The running loop's watch, made on first use (one per loop, for as long as the loop lives)."""
    watch = _WATCHES.get(loop)
    if watch is None:
        watch = _WATCHES[loop] = OutputWatch(loop)
    return watch
