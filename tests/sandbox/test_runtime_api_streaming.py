"""Streaming responses on the Runtime API, with a raw socket as the runtime (what AWS's Node runtime sends):
chunks reach the sink as they arrive, error trailers end the invocation as that error, the 200 MB limit,
and the runtime's socket is no longer read while the sink is full."""

from __future__ import annotations

import asyncio
import base64
import json

from lamina.invoke.response_stream import HIGH_WATER, ResponseStream
from lamina.sandbox.runtime_api import ReplyKind, RuntimeApi, RuntimeReply
from lamina.types import Invocation
from tests.invoke.harness import Loop
from tests.sandbox.test_runtime_api import get_next

STREAM_HEAD = (
    "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n"
    "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: text/plain\r\n"
    "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


async def started(
    api: RuntimeApi, stream: ResponseStream | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.Future[RuntimeReply]]:
    """A runtime connected and handed invocation r-1 (streaming into `stream`)."""
    host, port = (await api.listen()).split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(get_next())
    await asyncio.wait_for(api.ready, 5)
    result = api.deliver(Invocation("r-1", b"{}", "arn:aws:lambda:us-east-1:0:function:f", sink=stream), 0)
    await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(2)
    return reader, writer, result


async def status_of(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    return int(head.split()[1])


def test_chunks_reach_the_sink_before_the_response_ends(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=100)
        stream = ResponseStream()
        reader, writer, result = await started(api, stream)
        writer.write(STREAM_HEAD.format(id="r-1").encode() + chunk(b"first "))
        await stream.started()
        assert stream.streaming and stream.content_type == "text/plain"
        assert await stream.next() == b"first "
        assert not result.done()  # the runtime has not finished: the chunk came ahead of the end
        writer.write(chunk(b"second") + b"0\r\n\r\n")
        assert await status_of(reader) == 202
        reply = await result
        assert (reply.kind, reply.body) == (ReplyKind.RESPONSE, b"")
        stream.end()
        assert await stream.next() == b"second"
        assert await stream.next() is None
        writer.close()
        api.close()

    loop.run(body())


def test_error_trailers_end_the_invocation_as_that_error(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=100)
        stream = ResponseStream()
        reader, writer, result = await started(api, stream)
        document = {"errorType": "TypeError", "errorMessage": "late", "trace": []}
        trailers = (
            f"0\r\nLambda-Runtime-Function-Error-Type: TypeError\r\n"
            f"Lambda-Runtime-Function-Error-Body: {base64.b64encode(json.dumps(document).encode()).decode()}\r\n\r\n"
        )
        writer.write(STREAM_HEAD.format(id="r-1").encode() + chunk(b"partial") + trailers.encode())
        assert await status_of(reader) == 202
        reply = await result
        assert reply.kind is ReplyKind.ERROR and reply.error_type == "TypeError"
        assert json.loads(reply.body) == document
        assert await stream.next() == b"partial"
        writer.close()
        api.close()

    loop.run(body())


def test_without_a_sink_a_streamed_body_is_buffered_under_the_ordinary_limit(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=10)
        reader, writer, result = await started(api, None)
        writer.write(STREAM_HEAD.format(id="r-1").encode() + chunk(b"0123456789") + chunk(b"!") + b"0\r\n\r\n")
        assert await status_of(reader) == 413
        reply = await result
        assert reply.kind is ReplyKind.TOO_LARGE and reply.limit == 10
        writer.close()
        api.close()

    loop.run(body())


def test_a_stream_past_its_limit_is_cut(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=10, max_streamed_bytes=20)
        stream = ResponseStream()
        reader, writer, result = await started(api, stream)
        writer.write(STREAM_HEAD.format(id="r-1").encode() + chunk(b"x" * 15) + chunk(b"y" * 15))
        reply = await result  # settled at the limit, while the runtime is still sending
        assert reply.kind is ReplyKind.TOO_LARGE and reply.limit == 20
        writer.write(chunk(b"z" * 1000) + b"0\r\n\r\n")
        assert await status_of(reader) == 413
        assert await stream.next() == b"x" * 15  # what came before the limit was streamed
        writer.close()
        api.close()

    loop.run(body())


def test_a_full_sink_stops_reading_the_runtime_until_drained(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=10)
        stream = ResponseStream()
        reader, writer, result = await started(api, stream)
        block = b"z" * (256 << 10)
        writer.write(STREAM_HEAD.format(id="r-1").encode())
        sent = 0
        # Write far more than the sink holds; the writer's buffer fills once the platform stops reading.
        for _ in range(64):
            writer.write(chunk(block))
            sent += len(block)
        writer.write(b"0\r\n\r\n")
        for _ in range(200):  # let the loop move what it will
            await asyncio.sleep(0)
        assert HIGH_WATER < stream.size <= HIGH_WATER + 4 * len(block) < sent  # paused: the rest waits
        received = 0
        while received < sent:
            data = await stream.next()
            assert data is not None
            received += len(data)
        assert await status_of(reader) == 202
        assert (await result).kind is ReplyKind.RESPONSE
        writer.close()
        api.close()

    loop.run(body())
