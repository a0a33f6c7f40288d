"""Capture of one execution environment's stdout/stderr (one pipe) into log events.

The pipe is read from the event loop without blocking. Output is split into events at newlines (Lambda
does the same; runtimes join multi-line errors with carriage returns to keep them one event). Each event
goes to the environment's log stream (through the store's queue) and, while an invocation runs, into that
invocation's `InvocationLog`, whose last 4 KB are the `Tail` answer.

Ordering invariant: whatever the runtime wrote before posting its result is in the invocation's log,
because the platform calls `drain()` (a non-blocking read to the end of the pipe) before writing END. That
read is also what takes a short invocation's output: the pipe's readiness is paused while an invocation runs
(output_watch.py), so printing does not cost the event loop a wake-up of its own.

Bounds: at most `max_bytes_per_invocation` of output per invocation (or per init) is kept; the rest is read
and discarded (cheaply, without splitting) so a flooding function cannot stall the pipe or the platform.
"""

from __future__ import annotations

import asyncio
import os

from ..clock import Clock
from . import output_watch
from .store import LogStore

TAIL_BYTES = 4096
_READ_CHUNK = 65536
_READS_PER_WAKEUP = 8
_READS_PER_DRAIN = 64
_QUIET_BYTES = 16384  # an invocation that wrote more: the next one's pipe is not paused (output_watch.py)
DROPPED = "Lamina: output over the per-invocation log limit was dropped"


class InvocationLog:
    """The log of one invocation as `Tail` returns it: the last 4 KB, whole lines preferred."""

    __slots__ = ("buffer", "keep")

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.buffer = bytearray()

    def add(self, message: str) -> None:
        if not self.keep:
            return
        self.buffer += message.encode("utf-8", "replace") + b"\n"
        if len(self.buffer) > 4 * TAIL_BYTES:
            del self.buffer[: len(self.buffer) - TAIL_BYTES]

    def add_block(self, block: bytes) -> None:
        """Lines read from the pipe as they came (newline-separated, without the last newline)."""
        if not self.keep:
            return
        self.buffer += block
        self.buffer += b"\n"
        if len(self.buffer) > 4 * TAIL_BYTES:
            del self.buffer[: len(self.buffer) - TAIL_BYTES]

    def tail(self) -> bytes:
        return bytes(self.buffer[-TAIL_BYTES:])


class OutputCapture:
    def __init__(
        self,
        fd: int,
        store: LogStore,
        group: str,
        stream: str,
        clock: Clock,
        max_bytes_per_invocation: int,
    ) -> None:
        self.fd = fd
        self.store = store
        self.group = group
        self.stream = stream
        self.clock = clock
        self.max_bytes = max_bytes_per_invocation
        self.current: InvocationLog | None = None
        self.pending_init: list[str] = []  # init output, replayed into the first invocation's tail
        self._partial = b""
        self._bytes = 0
        self._dropping = False
        self._events: list[tuple[int, str]] = []
        self.closed = False
        self._quiet = True  # the last invocation wrote at most _QUIET_BYTES
        self._watch = output_watch.for_loop(asyncio.get_running_loop())
        os.set_blocking(fd, False)
        self._watch.watch(fd, self._on_readable)

    def begin(self, log: InvocationLog) -> None:
        """Start attributing output to a new invocation."""
        self.current = log
        if self._quiet:
            self._watch.pause(self.fd)
        self._bytes = 0
        self._dropping = False
        for line in self.pending_init:
            log.add(line)
        self.pending_init = []

    def finish(self) -> None:
        self._watch.resume(self.fd)
        self._quiet = self._bytes <= _QUIET_BYTES
        self.current = None
        self._bytes = 0
        self._dropping = False

    def platform(self, message: str) -> None:
        """A line written by the platform itself (START, END, REPORT...)."""
        self._events.append((int(self.clock.time() * 1000), message))
        if self.current is not None:
            self.current.add(message)
        elif len(self.pending_init) < 64:
            self.pending_init.append(message)

    def drain(self) -> None:
        """Read everything already in the pipe, now (see the ordering invariant), and hand it to the store."""
        self.read_pending()
        self.commit()

    def read_pending(self) -> None:
        """Read everything already in the pipe, now, keeping it for the next `commit()`."""
        if not self.closed:
            self._read(unbounded=True)

    def commit(self) -> None:
        if self._events:
            events, self._events = self._events, []
            self.store.append(self.group, self.stream, events)

    def close(self) -> None:
        if not self.closed:
            self._read(unbounded=True)
        if not self.closed:
            self._stop()
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        self.commit()

    def _stop(self) -> None:
        self.closed = True
        self._watch.forget(self.fd)
        os.close(self.fd)

    def _on_readable(self) -> None:
        self._read(unbounded=False)
        self.commit()

    def _read(self, unbounded: bool) -> None:
        reads = 0
        # Even a drain is bounded: a background thread may be writing forever.
        limit = _READS_PER_DRAIN if unbounded else _READS_PER_WAKEUP
        while reads < limit:
            reads += 1
            try:
                chunk = os.read(self.fd, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                if self._partial:
                    self._line(self._partial)
                    self._partial = b""
                self._stop()
                return
            if self._dropping:
                continue
            self._bytes += len(chunk)
            if self._bytes > self.max_bytes:
                self._dropping = True
                self._partial = b""
                self._emit(DROPPED)
                continue
            data = self._partial + chunk if self._partial else chunk
            end = data.rfind(b"\n")
            if end < 0:
                self._partial = data
            else:
                self._partial = data[end + 1 :]
                self._lines(data[:end])
            if len(chunk) < _READ_CHUNK:
                # A short read took all the pipe held: reading again would only answer EAGAIN (a wasted
                # syscall per wake-up). Level-triggered readiness calls us again for whatever comes later.
                return

    def _lines(self, block: bytes) -> None:
        """Whole lines read at one time: one timestamp, one decode, one append to the invocation's tail."""
        now_ms = int(self.clock.time() * 1000)
        text = block.decode("utf-8", "replace")
        messages = text.split("\n")
        self._events.extend([(now_ms, message) for message in messages])
        if self.current is not None:
            # The tail holds what the events hold: invalid UTF-8 as the replacement character.
            self.current.add_block(block if block.isascii() else text.encode("utf-8"))
        else:
            room = 64 - len(self.pending_init)
            if room > 0:
                self.pending_init.extend(messages[:room])

    def _line(self, raw: bytes) -> None:
        self._emit(raw.decode("utf-8", "replace"))

    def _emit(self, message: str) -> None:
        self._events.append((int(self.clock.time() * 1000), message))
        if self.current is not None:
            self.current.add(message)
        elif len(self.pending_init) < 64:
            self.pending_init.append(message)
