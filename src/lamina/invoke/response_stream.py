"""A streamed response on its way from the runtime's connection to the client's: a bounded hand-over.

The Runtime API (producer) calls `opened` when the runtime starts a streaming `POST …/response` and
`write` per chunk as it arrives; the front door (consumer) awaits `next()`. Back-pressure runs end to end:
past `HIGH_WATER` bytes waiting, the producer is paused (the runtime's socket is no longer read, so the
function's writes block in its own runtime), and resumed once the reader has taken it below `LOW_WATER`.

A client that goes away calls `abandon()`: what is waiting is dropped, the producer resumed, and later
writes are discarded, so the function runs to its end (as on AWS, where the invocation is not stopped)
and its environment and concurrency lease are given back through the one invoke path. `end()` is called
once the invocation is over (its result holds how it ended); `next()` then returns None.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

HIGH_WATER = 1 << 20
LOW_WATER = 256 << 10


def _nothing() -> None:
    pass


class ResponseStream:
    def __init__(self) -> None:
        self.content_type: str | None = None
        self.streaming = False  # the runtime opened a streaming response (else its answer is buffered)
        self.abandoned = False
        self.ended = False
        self.size = 0  # bytes the function wrote
        self.executed_version = ""  # known once the invoke path has resolved the qualifier
        self._chunks: deque[bytes] = deque()
        self._waiting = 0
        self._pause: Callable[[], None] = _nothing
        self._resume: Callable[[], None] = _nothing
        self._paused = False
        self._wake: asyncio.Future[None] | None = None

    # -- the runtime's side (invoke.types.ResponseSink) ---------------------------------------------
    def opened(self, content_type: str | None, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self.streaming = True
        self.content_type = content_type
        self._pause, self._resume = pause, resume
        self._notify()

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.abandoned:
            return
        self._chunks.append(chunk)
        self._waiting += len(chunk)
        if self._waiting > HIGH_WATER and not self._paused:
            self._paused = True
            self._pause()
        self._notify()

    # -- the platform's side --------------------------------------------------------------------------
    def end(self) -> None:
        """The invocation is over: nothing more will be written."""
        self.ended = True
        self._release()
        self._notify()

    def abandon(self) -> None:
        """The client went away: drop what waits and whatever comes, and let the function run on."""
        self.abandoned = True
        self._chunks.clear()
        self._waiting = 0
        self._release()
        self._notify()

    async def started(self) -> None:
        """Until the runtime opened a stream or the invocation ended."""
        while not (self.streaming or self.ended):
            await self._wait()

    async def next(self) -> bytes | None:
        """The next chunk the function wrote; None once the invocation has ended and all was read."""
        while not self._chunks:
            if self.ended or self.abandoned:
                return None
            await self._wait()
        chunk = self._chunks.popleft()
        self._waiting -= len(chunk)
        if self._paused and self._waiting < LOW_WATER:
            self._release()
        return chunk

    async def read_until(self, marker: bytes, limit: int) -> tuple[bytes, bool]:
        """Bytes up to `marker` (dropped), or what came before the end or `limit` bytes; True if found.
        What follows the marker stays queued for `next()`."""
        seen = bytearray()
        while True:
            at = seen.find(marker)
            if at >= 0:
                rest = bytes(seen[at + len(marker) :])
                if rest:
                    self._chunks.appendleft(rest)
                    self._waiting += len(rest)
                return bytes(seen[:at]), True
            if len(seen) > limit:
                self._chunks.appendleft(bytes(seen))
                self._waiting += len(seen)
                return b"", False
            chunk = await self.next()
            if chunk is None:
                return bytes(seen), False
            seen += chunk

    def _release(self) -> None:
        if self._paused:
            self._paused = False
            self._resume()

    async def _wait(self) -> None:
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_future()
        await self._wake

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
