"""Response streaming: InvokeWithResponseStream, and the interface a streaming front door calls.

The invocation runs through the one invoke path (`InvokeFront.invoke`: qualifier, concurrency lease,
environment pool, logs), handed a `ResponseStream` that the Runtime API fills as the function writes
(invoke/response_stream.py). Nothing here runs functions.

For another front door (function URLs with InvokeMode RESPONSE_STREAM):

    streamed = await ResponseStreaming(invoke_front).open(ctx, params)   # raises LaminaError as Invoke does
    streamed.executed_version      # "$LATEST" or the version the alias picked
    streamed.prelude               # HttpResponseStream.from(...) metadata: {"statusCode", "headers", "cookies"},
                                   # or None when the function sent no prelude (or answered buffered)
    streamed.content_type          # the function's own Content-Type (None for a buffered answer)
    async for chunk in streamed.body():   # the body after the prelude, chunk by chunk as written; a
        ...                               # buffered answer's payload once, if it succeeded
    streamed.outcome               # after the body: Invoke's output members (FunctionError, Payload with
                                   # the error document, LogResult)
    streamed.abandon()             # the client went away (body()'s generator does it when closed early)

`params` are Invoke's: FunctionName, Qualifier, Payload, InvocationType (RequestResponse or DryRun),
LogType, ClientContext. `open` returns once the function has started its stream (for the prelude content
type, once the prelude and its 8 NUL bytes have arrived, unless `prelude=False`: InvokeWithResponseStream
passes them on as bytes) or its invocation is over, so throttles, unknown
functions and init failures before the first byte are ordinary errors.

AWS streams only from functions that ask to (Node.js `awslambda.streamifyResponse`, or a custom runtime that
posts a streaming response); any other function's answer is buffered and comes as one chunk. Python's
managed runtimes do not stream on AWS, and do not here.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

from lamina.api.protocols.event_stream import MAX_PAYLOAD, encode_message, event_headers
from lamina.invoke.response_stream import ResponseStream
from lamina.types import CallContext

HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8
MAX_PRELUDE = 1 << 20  # a prelude (status, headers, cookies) bigger than this is read as body
EVENT_STREAM = "application/vnd.amazon.eventstream"

_CHUNK_HEADERS = event_headers("PayloadChunk", "application/octet-stream")
_COMPLETE_HEADERS = event_headers("InvokeComplete", "application/json")


class Invoker(Protocol):
    async def invoke(
        self, ctx: CallContext, params: dict[str, Any], stream: ResponseStream | None = None
    ) -> dict[str, Any]: ...


class StreamedInvocation:
    """One streaming invocation in flight (see the module docstring)."""

    def __init__(self, stream: ResponseStream, task: asyncio.Task[dict[str, Any]]) -> None:
        self._stream = stream
        self._task = task
        self.prelude: dict[str, Any] | None = None
        self.outcome: dict[str, Any] = {}

    @property
    def executed_version(self) -> str:
        return self._stream.executed_version

    @property
    def content_type(self) -> str | None:
        return self._stream.content_type if self._stream.streaming else None

    @property
    def streamed(self) -> bool:
        """Whether the function streamed (rather than answered buffered)."""
        return self._stream.streaming

    def body(self) -> Chunks:
        """The body, chunk by chunk; closing it early (`aclose`, even before the first chunk) abandons."""
        return Chunks(self._body(), self._closed)

    def _closed(self) -> None:
        if not self._task.done():
            self.abandon()

    async def _body(self) -> AsyncGenerator[bytes, None]:
        try:
            while True:
                chunk = await self._stream.next()
                if chunk is None:
                    break
                yield chunk
            self.outcome = await self._task
            if not self._stream.streaming and "FunctionError" not in self.outcome:
                payload = self.outcome.get("Payload") or b""
                if payload:
                    yield payload
        finally:
            if not self._task.done():
                self.abandon()

    def abandon(self) -> None:
        self._stream.abandon()


class Chunks:
    """An async iterator of bytes whose `aclose` also tells the producer, even when no chunk was asked for
    yet (closing an async generator that never started runs none of its code)."""

    def __init__(self, chunks: AsyncGenerator[bytes, None], on_close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._on_close = on_close

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        try:
            await self._chunks.aclose()
        finally:
            self._on_close()


class ResponseStreaming:
    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    async def open(self, ctx: CallContext, params: dict[str, Any], prelude: bool = True) -> StreamedInvocation:
        stream = ResponseStream()
        task = asyncio.get_running_loop().create_task(self._invoker.invoke(ctx, params, stream))
        task.add_done_callback(lambda _t: stream.end())
        try:
            await stream.started()
        except asyncio.CancelledError:
            stream.abandon()
            raise
        if task.done():
            task.result()  # the errors of Invoke (not found, throttled, bad payload...) before any byte
        streamed = StreamedInvocation(stream, task)
        if prelude and stream.streaming and stream.content_type == HTTP_INTEGRATION:
            head, found = await stream.read_until(PRELUDE_DELIMITER, MAX_PRELUDE)
            if found:
                try:
                    metadata = json.loads(head)
                except ValueError:
                    metadata = None
                streamed.prelude = metadata if isinstance(metadata, dict) else None
        return streamed

    async def invoke_with_response_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """The Lambda API operation: HTTP 200 and event-stream frames, PayloadChunk per chunk the function
        wrote and one InvokeComplete with the error (if any) and the log tail."""
        streamed = await self.open(ctx, params, prelude=False)  # the prelude is the caller's to read
        if streamed._task.done() and streamed._task.result().get("StatusCode") == 204:  # DryRun
            return {"StatusCode": 204}
        return {
            "StatusCode": 200,
            "ExecutedVersion": streamed.executed_version,
            "ResponseStreamContentType": EVENT_STREAM,
            "EventStream": Chunks(_frames(streamed, params.get("LogType") == "Tail"), streamed._closed),
        }


async def _frames(streamed: StreamedInvocation, tail: bool) -> AsyncGenerator[bytes, None]:
    body = streamed.body()
    try:
        async for chunk in body:
            for at in range(0, len(chunk), MAX_PAYLOAD):
                yield encode_message(_CHUNK_HEADERS, chunk[at : at + MAX_PAYLOAD])
    finally:
        await body.aclose()
    yield encode_message(_COMPLETE_HEADERS, json.dumps(complete_event(streamed.outcome, tail)).encode())


def complete_event(outcome: dict[str, Any], tail: bool) -> dict[str, str]:
    """InvokeComplete's members: ErrorCode (the error document's errorType) and ErrorDetails (its
    errorMessage) when the function failed, LogResult when the caller asked for the log tail."""
    event: dict[str, str] = {}
    if "FunctionError" in outcome:
        try:
            document = json.loads(outcome.get("Payload") or b"{}")
        except ValueError:
            document = {}
        if not isinstance(document, dict):
            document = {}
        event["ErrorCode"] = str(document.get("errorType") or outcome["FunctionError"])
        event["ErrorDetails"] = str(document.get("errorMessage") or "")
    if tail:
        event["LogResult"] = outcome.get("LogResult") or base64.b64encode(b"").decode()
    return event
