"""Giving the memory of large request bodies back to the system.

A body of tens of MB (CreateFunction takes up to 70 MB) is read in chunks of a few hundred KB, joined,
decoded (JSON, base64) and freed. glibc keeps what such chunks occupied in its heap: twelve concurrent
50 MB CreateFunction bodies took the server from 64 MB to 1.1 GB and left it at 680 MB when they were done.
`malloc_trim(0)` hands the free pages back. It walks the heap (milliseconds on a large one), so it runs
once, a moment after the last large body's request is answered, never on the small-request path.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

TRIM_DELAY = 0.2  # seconds after a large request is answered: the handler's copies are gone by then


def _load_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to give back this way
        return None
    return trim


_trim = _load_trim()
_pending: list[asyncio.TimerHandle] = []


def trim_soon() -> None:
    """Give free heap memory back to the system `TRIM_DELAY` seconds from now (once, however many large
    requests ask before then)."""
    if _trim is None:
        return
    if _pending:
        _pending[0].cancel()
        _pending.clear()
    _pending.append(asyncio.get_running_loop().call_later(TRIM_DELAY, _run))


def _run() -> None:
    _pending.clear()
    if _trim is not None:
        _trim(0)
