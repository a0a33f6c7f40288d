"""`ResponseStreaming.open`, the interface a streaming front door (function URLs in RESPONSE_STREAM mode)
calls, and the `ResponseStream` hand-over behind it, in-process with a scripted invoker in place of the
invoke path: the HTTP prelude, buffered answers, errors before the first byte, abandoning, back-pressure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from lamina.errors import Throttled
from lamina.invoke.response_stream import HIGH_WATER, LOW_WATER, ResponseStream
from lamina.services.lambda_.streaming import HTTP_INTEGRATION, ResponseStreaming, complete_event
from lamina.types import CallContext
from tests.invoke.harness import Loop

CTX = CallContext("us-east-1", "000000000000", "req-1", "http://localhost")
Script = Callable[[ResponseStream], Awaitable[dict[str, Any]]]


@pytest.fixture
def loop() -> Iterator[Loop]:
    runner = Loop()
    try:
        yield runner
    finally:
        runner.close()


class ScriptedInvoker:
    """Plays the runtime's side of one invocation on the stream it is handed."""

    def __init__(self, script: Script) -> None:
        self.script = script

    async def invoke(self, ctx: CallContext, params: dict[str, Any], stream: ResponseStream | None = None) -> Any:
        assert stream is not None
        stream.executed_version = "7"
        return await self.script(stream)


async def collect(body: Any) -> list[bytes]:
    return [chunk async for chunk in body]


def test_the_http_prelude_is_read_and_the_body_follows(loop: Loop) -> None:
    gate = asyncio.Event()

    async def script(stream: ResponseStream) -> dict[str, Any]:
        stream.opened(HTTP_INTEGRATION, lambda: None, lambda: None)
        stream.write(b'{"statusCode": 201, "headers": {"a": "b"}, "cookies": ["c=1"]}\0\0\0')
        stream.write(b"\0\0\0\0\0<p>")
        await gate.wait()
        stream.write(b"late</p>")
        return {"StatusCode": 200, "ExecutedVersion": "7", "Payload": b""}

    async def body() -> None:
        streamed = await ResponseStreaming(ScriptedInvoker(script)).open(CTX, {})
        assert streamed.prelude == {"statusCode": 201, "headers": {"a": "b"}, "cookies": ["c=1"]}
        assert streamed.executed_version == "7" and streamed.streamed
        chunks = streamed.body()
        assert await chunks.__anext__() == b"<p>"  # before the function has finished
        gate.set()
        assert await collect(chunks) == [b"late</p>"]
        assert streamed.outcome["StatusCode"] == 200

    loop.run(body())


def test_without_a_prelude_content_type_the_bytes_are_all_body(loop: Loop) -> None:
    async def script(stream: ResponseStream) -> dict[str, Any]:
        stream.opened("text/csv", lambda: None, lambda: None)
        stream.write(b"a,b\0\0\0\0\0\0\0\0")
        return {"StatusCode": 200, "Payload": b""}

    async def body() -> None:
        streamed = await ResponseStreaming(ScriptedInvoker(script)).open(CTX, {})
        assert streamed.prelude is None and streamed.content_type == "text/csv"
        assert b"".join(await collect(streamed.body())) == b"a,b" + b"\0" * 8

    loop.run(body())


def test_a_buffered_answer_is_one_chunk_and_an_error_none(loop: Loop) -> None:
    async def ok(stream: ResponseStream) -> dict[str, Any]:
        return {"StatusCode": 200, "Payload": b'{"x":1}'}

    async def failed(stream: ResponseStream) -> dict[str, Any]:
        doc = {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: r Error: Task timed out after 1.00 seconds"}
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": json.dumps(doc).encode(),
            "LogResult": "TA==",
        }

    async def body() -> None:
        streamed = await ResponseStreaming(ScriptedInvoker(ok)).open(CTX, {})
        assert not streamed.streamed and streamed.content_type is None
        assert await collect(streamed.body()) == [b'{"x":1}']
        streamed = await ResponseStreaming(ScriptedInvoker(failed)).open(CTX, {})
        assert await collect(streamed.body()) == []
        assert complete_event(streamed.outcome, tail=True) == {
            "ErrorCode": "Sandbox.Timedout",
            "ErrorDetails": "RequestId: r Error: Task timed out after 1.00 seconds",
            "LogResult": "TA==",
        }

    loop.run(body())


def test_errors_before_the_first_byte_raise_from_open(loop: Loop) -> None:
    async def throttled(stream: ResponseStream) -> dict[str, Any]:
        raise Throttled("Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded")

    async def body() -> None:
        with pytest.raises(Throttled):
            await ResponseStreaming(ScriptedInvoker(throttled)).open(CTX, {})

    loop.run(body())


def test_abandoning_drops_the_chunks_and_resumes_the_producer(loop: Loop) -> None:
    events: list[str] = []
    finish = asyncio.Event()

    async def script(stream: ResponseStream) -> dict[str, Any]:
        stream.opened("text/plain", lambda: events.append("pause"), lambda: events.append("resume"))
        stream.write(b"x" * (HIGH_WATER + 1))
        await finish.wait()
        stream.write(b"after the client left")
        return {"StatusCode": 200, "Payload": b""}

    async def body() -> None:
        streamed = await ResponseStreaming(ScriptedInvoker(script)).open(CTX, {})
        chunks = streamed.body()
        assert events == ["pause"]
        await chunks.aclose()  # what the HTTP server does when the client goes away
        assert events == ["pause", "resume"]
        finish.set()
        await asyncio.sleep(0)
        assert streamed._stream.size == HIGH_WATER + 1 + len(b"after the client left")
        assert streamed._stream.abandoned

    loop.run(body())


def test_the_producer_resumes_only_below_the_low_water_mark(loop: Loop) -> None:
    async def body() -> None:
        events: list[str] = []
        stream = ResponseStream()
        stream.opened(None, lambda: events.append("pause"), lambda: events.append("resume"))
        block = b"y" * (LOW_WATER // 2)
        while not events:
            stream.write(block)
        assert events == ["pause"]
        waiting = stream.size
        taken = 0
        while waiting - taken >= LOW_WATER:
            assert events == ["pause"]
            chunk = await stream.next()
            assert chunk is not None
            taken += len(chunk)
        assert events == ["pause", "resume"]

    loop.run(body())


def test_read_until_keeps_what_follows_the_marker(loop: Loop) -> None:
    async def body() -> None:
        stream = ResponseStream()
        stream.opened(None, lambda: None, lambda: None)
        stream.write(b"he")
        stream.write(b"ad||ta")
        stream.write(b"il")
        stream.end()
        assert await stream.read_until(b"||", 100) == (b"head", True)
        assert [await stream.next(), await stream.next(), await stream.next()] == [b"ta", b"il", None]

    loop.run(body())
