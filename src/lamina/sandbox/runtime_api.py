"""The Runtime API 2018-06-01, served to one execution environment from the platform's event loop.

Every environment gets its own `RuntimeApi` (its own listening socket), so a request id or a `next` can only
ever concern that environment. HTTP is parsed with httptools and answered with preformatted bytes: this is
the warm-invoke hot path (a warm invoke is one `next` answer and one `response` request).

Protocol states (one invocation at a time, as in Lambda):

    INITIALIZING --next--> IDLE --deliver--> (next parked or pending) --event sent--> INVOKING
    INVOKING --response|error--> IDLE (the following `next` parks until the next `deliver`)
    INITIALIZING --init/error--> FAILED

Error answers follow the RIE (spec §4): unknown or already answered request id → 400 InvalidRequestID,
out-of-order call → 403 InvalidStateTransition, body over the limit → 413 RequestEntityTooLarge (the
invocation then ends as Function.ResponseSizeTooLarge).

Streaming responses (spec §2, as AWS's Node runtime sends them): a `POST …/response` with
`Lambda-Runtime-Function-Response-Mode: streaming` and a chunked body. When the invocation has a sink (an
InvokeWithResponseStream or a streaming function URL), each chunk goes to it as it arrives, up to
`max_streamed_bytes` (200 MB, AWS's limit), and the runtime's socket stops being read while the sink is
full; without one (a plain Invoke) the body is buffered under the ordinary 6 MB limit. An error in mid-stream
comes as the trailers `Lambda-Runtime-Function-Error-Type` and `Lambda-Runtime-Function-Error-Body` (the
error document, base64): the invocation then ends as that error, after the chunks already sent.

Responses on one connection are written in request order even when a `next` is parked behind them (HTTP/1.1
pipelining), so a runtime may send its result and its next `next` in one write.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import cast, overload

import httptools

from .. import json_text
from ..types import Invocation, ResponseSink
from .peer_uid import NOT_FOUND as NO_SUCH_SOCKET
from .peer_uid import peer_uid

log = logging.getLogger(__name__)

_PREFIX = b"/2018-06-01/runtime/"
_NEXT = b"/2018-06-01/runtime/invocation/next"
_INIT_ERROR = b"/2018-06-01/runtime/init/error"
_INVOCATION = b"/2018-06-01/runtime/invocation/"
_ERROR_TYPE_RE = re.compile(r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$")


def _reply(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: " + content_type
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


def _error(status: str, error_type: str, message: str) -> bytes:
    return _reply(status, json.dumps({"errorMessage": message, "errorType": error_type}).encode())


ACCEPTED = _reply("202 Accepted", b'{"status":"OK"}')
INVALID_REQUEST_ID = _error("400 Bad Request", "InvalidRequestID", "Invalid request ID")
INVALID_STATE = _error("403 Forbidden", "InvalidStateTransition", "Invalid state transition")
NOT_FOUND = _error("404 Not Found", "NotFound", "Unknown Runtime API path")
TOO_LARGE_TEMPLATE = "Exceeded maximum allowed payload size ({} bytes)."
MAX_STREAMED_BYTES = 200 * 1024 * 1024  # a streamed response's limit on AWS (buffered: 6 MB)


class ApiState(Enum):
    INITIALIZING = "initializing"
    IDLE = "idle"
    INVOKING = "invoking"
    FAILED = "failed"


class ReplyKind(Enum):
    """How a phase (init or one invocation) ended; the last two come from the platform, not the runtime."""

    RESPONSE = "response"
    ERROR = "error"
    TOO_LARGE = "too_large"
    INIT_ERROR = "init_error"
    EXITED = "exited"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class RuntimeReply:
    kind: ReplyKind
    body: bytes
    error_type: str | None = None
    content_type: str | None = None
    limit: int | None = None  # for TOO_LARGE: the limit passed (the streamed one, if not the buffered)


def trace_header(trace_id: str) -> str:
    if trace_id:
        return trace_id
    # X-Ray's format: Root=1-<epoch seconds, 8 hex>-<96 random bits>; Lambda always sends one.
    raw = os.urandom(20).hex()
    return f"Root=1-{int(time.time()):08x}-{raw[:24]};Parent={raw[24:40]};Sampled=0"


def _header_safe(value: str) -> str:
    if "\n" in value or "\r" in value:
        try:
            return json.dumps(json.loads(value), separators=(",", ":"))
        except (ValueError, RecursionError):  # outside strings a newline is whitespace: a space keeps the JSON
            return value.replace("\r", " ").replace("\n", " ")
    return value


class RuntimeApi:
    """One environment's Runtime API endpoint and protocol state (see the module docstring)."""

    def __init__(self, max_response_bytes: int, max_streamed_bytes: int = MAX_STREAMED_BYTES) -> None:
        self.max_response_bytes = max_response_bytes
        self.max_streamed_bytes = max_streamed_bytes
        self._sink: ResponseSink | None = None  # where the invocation in flight streams to, if it may
        self.too_large_reply = _error(
            "413 Request Entity Too Large", "RequestEntityTooLarge", TOO_LARGE_TEMPLATE.format(max_response_bytes)
        )
        self.state = ApiState.INITIALIZING
        self.ready: asyncio.Future[RuntimeReply | None] = asyncio.get_running_loop().create_future()
        # Who is told how the invocation in flight ended; called synchronously, from the runtime's
        # connection or from `interrupt`, so a warm invoke's answer needs no extra turn of the event loop.
        self._on_reply: Callable[[RuntimeReply], None] | None = None
        self._request_id = b""
        self._event: bytes | None = None  # formatted `next` answer not yet sent
        self._parked: deque[tuple[_Connection, list[bytes | None]]] = deque()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self.address = ""
        # When set, a TCP connection is served only if the kernel says its socket belongs to this uid (the
        # environment's own): without a network namespace, other functions can reach the port.
        self.allowed_uid: int | None = None

    async def listen(self, sock: socket.socket | None = None) -> str:
        """Serve on `sock` (an already bound listener, e.g. inside a network namespace) or on a fresh
        127.0.0.1 port. Returns host:port for AWS_LAMBDA_RUNTIME_API."""
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
        sock.setblocking(False)
        host, port = sock.getsockname()[:2]
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock)
        self.address = f"{host}:{port}"
        return self.address

    async def attach(self, sock: socket.socket) -> None:
        """Serve the Runtime API on an already connected socket too (one end of a socketpair whose other
        end the runtime holds)."""
        try:
            sock.setblocking(False)
            await asyncio.get_running_loop().connect_accepted_socket(lambda: _Connection(self, True), sock=sock)
        except BaseException:
            sock.close()
            raise

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()
        self._parked.clear()
        if not self.ready.done():
            self.ready.set_result(None)
        self._settle(RuntimeReply(ReplyKind.EXITED, b""))

    # -- platform side --------------------------------------------------------------------------------

    @overload
    def deliver(self, invocation: Invocation, deadline_ms: int) -> asyncio.Future[RuntimeReply]: ...

    @overload
    def deliver(self, invocation: Invocation, deadline_ms: int, on_reply: Callable[[RuntimeReply], None]) -> None: ...

    def deliver(
        self, invocation: Invocation, deadline_ms: int, on_reply: Callable[[RuntimeReply], None] | None = None
    ) -> asyncio.Future[RuntimeReply] | None:
        """Hand `invocation` to the runtime (now, if it is waiting in `next`). Its answer (or how the
        invocation otherwise ended) goes to `on_reply`, called exactly once; without one, to the returned
        future. Only valid in IDLE."""
        if self.state is not ApiState.IDLE:
            raise RuntimeError(f"cannot deliver in state {self.state}")
        head = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ",
            invocation.request_id.encode(),
            b"\r\nLambda-Runtime-Deadline-Ms: ",
            str(deadline_ms).encode(),
            b"\r\nLambda-Runtime-Invoked-Function-Arn: ",
            invocation.invoked_arn.encode(),
            b"\r\nLambda-Runtime-Trace-Id: ",
            trace_header(invocation.trace_id).encode(),
        ]
        if invocation.client_context:
            head += [b"\r\nLambda-Runtime-Client-Context: ", _header_safe(invocation.client_context).encode()]
        if invocation.cognito_identity:
            head += [b"\r\nLambda-Runtime-Cognito-Identity: ", _header_safe(invocation.cognito_identity).encode()]
        head += [b"\r\nContent-Length: ", str(len(invocation.payload)).encode(), b"\r\n\r\n", invocation.payload]
        self._request_id = invocation.request_id.encode()
        self._sink = invocation.sink
        future: asyncio.Future[RuntimeReply] | None = None
        if on_reply is None:
            future = asyncio.get_running_loop().create_future()
            on_reply = resolver(future)
        self._on_reply = on_reply
        self.state = ApiState.INVOKING
        self._event = b"".join(head)
        if self._parked:
            conn, cell = self._parked.popleft()
            self._send_event(conn, cell)
        return future

    def _send_event(self, conn: _Connection, cell: list[bytes | None]) -> None:
        cell[0] = self._event
        self._event = None
        conn.flush()

    def interrupt(self, reply: RuntimeReply) -> None:
        """End the current phase from outside (the process exited, or time ran out). Idempotent."""
        self.state = ApiState.FAILED
        if not self.ready.done():
            self.ready.set_result(reply)
        self._settle(reply)

    def _settle(self, reply: RuntimeReply) -> None:
        on_reply = self._on_reply
        if on_reply is None:
            return
        self._on_reply = None
        try:
            on_reply(reply)
        except Exception:  # the platform's bug must not break the runtime's connection
            log.exception("finishing an invocation failed")

    # -- runtime side ---------------------------------------------------------------------------------

    def on_next(self, conn: _Connection, cell: list[bytes | None]) -> None:
        if self.state is ApiState.INITIALIZING:
            self.state = ApiState.IDLE
            if not self.ready.done():
                self.ready.set_result(None)
        elif self.state is ApiState.FAILED:
            cell[0] = INVALID_STATE
            return
        if self._event is not None:
            self._send_event(conn, cell)
        else:
            self._parked.append((conn, cell))

    def stream_sink(self, path: bytes) -> ResponseSink | None:
        """The sink a streaming `POST <path>` (what follows /runtime/invocation/) writes to: the
        invocation in flight's, if it has one and the path names it."""
        if self._sink is None or self.state is not ApiState.INVOKING or self._event is not None:
            return None
        return self._sink if path == self._request_id + b"/response" else None

    def on_result(
        self,
        path: bytes,
        body: bytes,
        error_type: str | None,
        content_type: str | None,
        streamed: bool = False,
        failure: tuple[str, bytes] | None = None,
    ) -> bytes:
        """`path` is what follows /runtime/invocation/: "<id>/response" or "<id>/error". `streamed`: the body
        went to the invocation's sink; `failure`: a streaming response's error trailers (type, document)."""
        request_id, _, action = path.rpartition(b"/")
        if action not in (b"response", b"error"):
            return NOT_FOUND
        if self.state is not ApiState.INVOKING or self._on_reply is None:
            return INVALID_STATE if self.state is not ApiState.IDLE else INVALID_REQUEST_ID
        if request_id != self._request_id or self._event is not None:
            return INVALID_REQUEST_ID
        self.state = ApiState.IDLE
        self._sink = None
        if body is _TOO_LARGE:
            limit = self.max_streamed_bytes if streamed else self.max_response_bytes
            self._settle(RuntimeReply(ReplyKind.TOO_LARGE, b"", limit=limit))
            return self.too_large_reply if not streamed else _too_large(limit)
        if failure is not None and action == b"response":
            self._settle(RuntimeReply(ReplyKind.ERROR, failure[1], error_type=failure[0]))
            return ACCEPTED
        if action == b"response":
            self._settle(RuntimeReply(ReplyKind.RESPONSE, body, content_type=content_type))
        else:
            kind = error_type if error_type and _ERROR_TYPE_RE.match(error_type) else None
            self._settle(RuntimeReply(ReplyKind.ERROR, body, error_type=kind or error_type))
        return ACCEPTED

    def on_init_error(self, body: bytes, error_type: str | None) -> bytes:
        if self.state is not ApiState.INITIALIZING:
            return INVALID_STATE
        self.state = ApiState.FAILED
        if not self.ready.done():
            self.ready.set_result(RuntimeReply(ReplyKind.INIT_ERROR, body, error_type=error_type))
        return ACCEPTED


def _too_large(limit: int) -> bytes:
    return _error("413 Request Entity Too Large", "RequestEntityTooLarge", TOO_LARGE_TEMPLATE.format(limit))


def _failure(error_type: str | None, encoded: str | None) -> tuple[str, bytes] | None:
    """A streaming response's error trailers as (error type, error document); None when there are none."""
    if not error_type and not encoded:
        return None
    kind = error_type or "Runtime.StreamError"
    try:
        document = base64.b64decode(encoded or "", validate=True)
        json_text.check(document)
    except (binascii.Error, ValueError):
        document = json.dumps({"errorType": kind, "errorMessage": "The function's stream ended in an error."}).encode()
    return kind, document


def resolver(future: asyncio.Future[RuntimeReply]) -> Callable[[RuntimeReply], None]:
    """A reply callback that completes `future`, unless its waiter has given up on it."""

    def resolve(reply: RuntimeReply) -> None:
        if not future.done():
            future.set_result(reply)

    return resolve


_TOO_LARGE = b"\x00too-large\x00"  # sentinel identity for an over-limit body
_unverifiable: list[str] = []  # the reason peers could not be checked, logged once


def _owned_by(sock: socket.socket, uid: int) -> bool:
    """Whether the peer of this loopback TCP connection is a socket of `uid`. When the kernel cannot be
    asked (sock_diag unavailable), the connection is let through and that is logged once; a peer the kernel
    does not know is refused."""
    try:
        local, peer = sock.getsockname(), sock.getpeername()
    except OSError:
        return False
    owner = peer_uid(local[:2], peer[:2]) if sock.family == socket.AF_INET else None
    if owner is None:
        if not _unverifiable:
            _unverifiable.append("sock_diag")
            log.warning("cannot tell which user connects to a Runtime API port: peers are not checked")
        return True
    if owner == NO_SUCH_SOCKET:
        return False
    if owner != uid:
        log.warning("refused a Runtime API connection from uid %d (the environment runs as uid %d)", owner, uid)
    return owner == uid


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection from the runtime; answers are queued in request order (`cells`)."""

    __slots__ = (
        "api", "body", "cells", "close_after", "content_type", "cut", "error_body", "error_type", "header_name",
        "hold", "parser", "sink", "size", "streaming", "transport", "url",
    )  # fmt: skip

    def __init__(self, api: RuntimeApi, hold: bool = False) -> None:
        self.api = api
        self.hold = hold  # Lamina's own runtime on its private channel: see `flush`
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.cells: deque[list[bytes | None]] = deque()
        self.url = b""
        self.body: bytes | bytearray = b""
        self.size = 0
        self.error_type: str | None = None
        self.content_type: str | None = None
        self.close_after = False
        self.streaming = False  # Lambda-Runtime-Function-Response-Mode: streaming
        self.sink: ResponseSink | None = None
        self.error_body: str | None = None  # the error trailer of a streaming response
        self.cut: bytes | None = None  # the answer to a stream cut at its limit, settled already

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.api._connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            if self.api.allowed_uid is not None and not _owned_by(sock, self.api.allowed_uid):
                self.close()
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.api._connections.discard(self)
        self.api._parked = deque(p for p in self.api._parked if p[0] is not self)
        self.transport = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.flush()
            self.close()
            return
        except httptools.HttpParserError:
            self.flush()
            if self.transport is not None:
                self.transport.write(_error("400 Bad Request", "InvalidRequest", "Malformed HTTP request"))
            self.close()
            return
        # Answer after the whole read is parsed, not per message: a `next` pipelined behind a post is then
        # already queued when the post's 202 is ready, and the two go out together (see `flush`).
        self.flush()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.url = b""
        self.body = b""
        self.size = 0
        self.error_type = None
        self.content_type = None
        self.streaming = False
        self.sink = None
        self.error_body = None
        self.cut = None

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"lambda-runtime-function-error-type":
            self.error_type = value.decode("latin-1")
        elif lower == b"content-type":
            self.content_type = value.decode("latin-1")
        elif lower == b"lambda-runtime-function-response-mode":
            self.streaming = value.lower() == b"streaming"
        elif lower == b"lambda-runtime-function-error-body":
            self.error_body = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if not self.streaming or not self.url.startswith(_INVOCATION):
            return
        sink = self.api.stream_sink(self.url[len(_INVOCATION) :])
        if sink is not None and self.parser.get_method() == b"POST":
            self.sink = sink
            sink.opened(self.content_type, self._pause, self._resume)

    def _pause(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def on_body(self, chunk: bytes) -> None:
        self.size += len(chunk)
        sink = self.sink
        if sink is not None:
            if self.body is _TOO_LARGE:
                return
            if self.size > self.api.max_streamed_bytes:
                # Cut now, not when the runtime is done sending: the caller gets its answer at the limit.
                self.body = _TOO_LARGE
                self.cut = self.api.on_result(self.url[len(_INVOCATION) :], _TOO_LARGE, None, None, True)
            else:
                sink.write(chunk)
            return
        if self.size > self.api.max_response_bytes:
            self.body = _TOO_LARGE
        elif not self.body:
            self.body = chunk
        else:
            if isinstance(self.body, bytes):
                self.body = bytearray(self.body)
            self.body += chunk

    def on_message_complete(self) -> None:
        cell: list[bytes | None] = [None]
        self.cells.append(cell)
        if not self.parser.should_keep_alive():
            self.close_after = True
        url = self.url
        api = self.api
        method = self.parser.get_method()
        if url == _NEXT and method == b"GET":
            api.on_next(self, cell)
        elif url.startswith(_INVOCATION) and method == b"POST":
            body = self.body if self.body is _TOO_LARGE else bytes(self.body)
            failure = _failure(self.error_type, self.error_body) if self.streaming else None
            if self.cut is not None:  # a stream cut at its limit was settled then; this is the answer
                cell[0] = self.cut
                return
            cell[0] = api.on_result(
                url[len(_INVOCATION) :], body, self.error_type, self.content_type, self.sink is not None, failure
            )
        elif url == _INIT_ERROR and method == b"POST":
            cell[0] = api.on_init_error(bytes(self.body), self.error_type)
        else:
            cell[0] = NOT_FOUND

    def flush(self) -> None:
        """Write the answers that are ready, in request order, in one write.

        On Lamina's own runtime's private channel (`hold`), which pipelines `POST …/response` and
        `GET …/next` in one write, the 202 for the post waits and goes out together with the next event:
        the runtime, which has nothing to do until that event, then wakes once per invocation instead of
        twice, and the platform writes once. Every other connection gets each answer as soon as it is
        ready, as from AWS's Runtime API.
        """
        cells = self.cells
        transport = self.transport
        ready: list[bytes] = []
        while cells and cells[0][0] is not None:
            data = cells.popleft()[0]
            assert data is not None
            ready.append(data)
        if ready and cells and self.hold and not self.close_after:
            cells.extendleft([data] for data in reversed(ready))
            return
        if transport is not None and ready:
            transport.write(ready[0] if len(ready) == 1 else b"".join(ready))
        if self.close_after and not cells and transport is not None:
            transport.close()
