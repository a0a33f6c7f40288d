"""A raw-socket asyncio client that fires Event invokes over keep-alive connections and remembers which ones
were answered 202 (accepted). Used by the crash test and bench/async_bench.py; boto3 is far too slow to
offer thousands of events per second from one process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator


def request(function: str, body: bytes) -> bytes:
    head = (
        f"POST /2015-03-31/functions/{function}/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Amz-Invocation-Type: Event\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def send_events(
    port: int,
    function: str,
    events: Iterator[tuple[int, bytes]],
    connections: int,
    accepted: set[int],
    on_accept: Callable[[int], None] | None = None,
) -> int:
    """Sends every event from `events` (id, JSON body); ids answered 202 go into `accepted`. A connection that
    breaks (the server died) ends its worker: the request in flight is unanswered, so not counted as accepted.
    Returns how many requests failed (non-202 answers or broken connections)."""
    failures = 0

    async def worker() -> None:
        nonlocal failures
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            failures += 1
            return
        try:
            for event_id, body in events:
                writer.write(request(function, body))
                status = await _response(reader)
                if status == 202:
                    accepted.add(event_id)
                    if on_accept is not None:
                        on_accept(event_id)
                else:
                    failures += 1
        except (OSError, asyncio.IncompleteReadError):
            failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return failures
