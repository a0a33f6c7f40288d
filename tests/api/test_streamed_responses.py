"""Streamed responses at the wire, with the HTTP server in-process and a raw socket as the client:
chunked framing as chunks are produced, keep-alive and pipelining after a stream, back-pressure from a
client that does not read, and the producer told when the client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from lamina.api.messages import Request, Response
from lamina.api.server import serve
from tests.invoke.harness import Loop

MiB = 1 << 20


@pytest.fixture
def loop() -> Iterator[Loop]:
    runner = Loop()
    try:
        yield runner
    finally:
        runner.close()


class Producer:
    def __init__(self, chunks: int, size: int) -> None:
        self.chunks, self.size = chunks, size
        self.produced = 0
        self.closed = asyncio.Event()
        self.release = asyncio.Event()  # the first chunk waits for it, when `hold` is set
        self.hold = False

    async def body(self) -> AsyncIterator[bytes]:
        try:
            for i in range(self.chunks):
                if i == 1 and self.hold:
                    await self.release.wait()
                self.produced += self.size
                yield bytes([97 + i % 26]) * self.size
        finally:
            self.closed.set()


async def start(producer: Producer) -> tuple[asyncio.AbstractServer, int]:
    async def handler(request: Request) -> Response:
        if request.path == "/stream":
            return Response(200, [("Content-Type", "text/plain")], stream=producer.body())
        return Response(200, [("Content-Type", "text/plain")], b"plain")

    def refuse(_request: Request) -> Response:
        return Response(413)

    server = await serve(handler, "127.0.0.1", 0, 1 << 20, refuse, lambda: Response(400))
    return server, server.sockets[0].getsockname()[1]


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, list[bytes]]:
    head = await reader.readuntil(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        return head, [await reader.readexactly(length)]
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            return head, chunks
        chunks.append(data[:-2])


def test_chunks_are_framed_and_the_connection_serves_on(loop: Loop) -> None:
    async def body() -> None:
        producer = Producer(3, 5)
        server, port = await start(producer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        head, chunks = await read_response(reader)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Content-Length" not in head and b"Connection: close" not in head
        assert chunks == [b"aaaaa", b"bbbbb", b"ccccc"]
        head, plain = await read_response(reader)  # the pipelined request, answered after the stream
        assert plain == [b"plain"]
        assert producer.closed.is_set()
        writer.close()
        server.close()

    loop.run(body())


def test_a_chunk_is_sent_before_the_next_one_is_produced(loop: Loop) -> None:
    async def body() -> None:
        producer = Producer(2, 3)
        producer.hold = True
        server, port = await start(producer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        assert await reader.readuntil(b"aaa\r\n") == b"3\r\naaa\r\n"  # while the producer still waits
        producer.release.set()
        assert await reader.readuntil(b"0\r\n\r\n") == b"3\r\nbbb\r\n0\r\n\r\n"
        writer.close()
        server.close()

    loop.run(body())


def test_a_client_that_does_not_read_holds_the_producer_back(loop: Loop) -> None:
    async def body() -> None:
        producer = Producer(96, MiB)
        server, port = await start(producer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=MiB)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        before = -1
        while before != producer.produced:  # until the producer stops advancing
            before = producer.produced
            for _ in range(500):
                await asyncio.sleep(0)
        assert producer.produced < 48 * MiB  # socket buffers only; not the whole 96 MiB
        _, chunks = await read_response(reader)
        assert sum(len(c) for c in chunks) == 96 * MiB
        writer.close()
        server.close()

    loop.run(body())


def test_the_producer_is_closed_when_the_client_goes_away(loop: Loop) -> None:
    async def body() -> None:
        producer = Producer(10_000, MiB)
        server, port = await start(producer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(1000)
        writer.transport.abort()
        await asyncio.wait_for(producer.closed.wait(), 10)
        assert producer.produced < 10_000 * MiB
        server.close()

    loop.run(body())
