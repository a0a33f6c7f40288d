"""A minimal HTTP/1.1 server: an asyncio protocol over httptools' C parser.

Chosen by measurement (see bench/http_server.py): on this machine it serves several times the
requests per second of uvicorn + Starlette, and the invoke hot path must not pay framework overhead.
It does exactly what AWS clients need: keep-alive, Content-Length and chunked bodies, `Expect:
100-continue`, a body size cap, and one request at a time per connection (responses stay in order).
Hostile input gets an answer, never a silent close: a body over its operation's cap a 413 from
`Content-Length` before it is read (a chunked body as soon as it passes the cap), too many or too long
headers a 431, an HTTP/0.9 request or anything httptools cannot parse a 400. After a 413 the server
half-closes (FIN after the answer) and drops, unparsed, what the client still sends, for at most
`LINGER_SECONDS`: a client still uploading reads the answer instead of being reset mid-upload (the way
nginx lingers), and one that never stops sending cannot hold the connection.

Streamed responses (`Response.stream`, an async iterator of bytes; InvokeWithResponseStream and streaming
function URLs) go out with `Transfer-Encoding: chunked`, each chunk written as it is produced. The
iterator is not asked for the next chunk while the transport's buffer is over its high-water mark
(`pause_writing`), so a slow client slows the producer rather than filling memory; a client that goes away
cancels the pump and the iterator is closed (`aclose`), which tells its producer. Requests pipelined
behind a streamed response wait for its end, and keep-alive holds after it. The buffered path does not
change: one attribute test.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from email.utils import formatdate

import httptools

from lamina.api import heap
from lamina.api.messages import Request, Response

log = logging.getLogger(__name__)

Handler = Callable[[Request], Coroutine[object, object, Response]]
# A shortcut for some requests, tried before the handler: True when it took the request, and then calls
# the given function with the response exactly once, now or later.
FastPath = Callable[[Request, Callable[[Response], None]], bool]
# The most body bytes a request (its headers known, its body not yet read) may send.
BodyCap = Callable[[Request], int]
# The cap of a request whose body its operation takes as a stream (S3 PutObject/UploadPart), from its headers alone;
# None: the body is read whole first, as for every other request.
StreamCap = Callable[[Request], int | None]
STREAM_BUFFER = 1 << 20  # a streamed body's bytes read ahead of its consumer before the socket is paused

# Bodies up to this size are read without asking BodyCap (the gateway still checks each operation's own
# limit once read): the invoke hot path pays for no routing, and a connection holds at most this much.
_UNCHECKED_BODY = 1 << 20
MAX_HEADERS = 200  # more answers 431 (AWS's front ends allow about 100 headers of 16 KB together)
MAX_HEADER_BYTES = 64 * 1024
LINGER_SECONDS = 5.0  # how long the rest of a refused body is read and dropped before the connection closes


class _HeadersTooLarge(Exception):
    pass


class _BadRequestLine(Exception):
    """A request line httptools accepts but AWS's front ends do not (HTTP/0.9: no version)."""


_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip


_date_cache: list[tuple[int, str]] = [(0, "")]


def _http_date() -> str:
    """The Date header, formatted once per second (formatting per response costs more than routing)."""
    now = int(time.time())
    cached = _date_cache[0]
    if cached[0] != now:
        cached = _date_cache[0] = (now, formatdate(now, usegmt=True))
    return cached[1]


def encode_response(response: Response, keep_alive: bool, head: bool = False) -> bytes:
    """Status line, headers and body; a response to HEAD has the headers of the GET but no body."""
    status = response.status
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    for name, value in response.headers:
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(response.body) if response.length is None else response.length}")
    lines.append(f"Date: {_http_date()}")
    if not keep_alive:
        lines.append("Connection: close")
    header = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return header if head else header + response.body


def encode_stream_head(response: Response, keep_alive: bool) -> bytes:
    """Status line and headers of a response whose body follows in chunks (or, its length known, as is)."""
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}"]
    for name, value in response.headers:
        lines.append(f"{name}: {value}")
    if response.length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {response.length}")
    lines.append(f"Date: {_http_date()}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class BodyStream:
    """A request body as it arrives: the protocol feeds chunks, the handler iterates them. Reading from the socket
    pauses while more than STREAM_BUFFER bytes wait, so a body of any size holds about that much memory."""

    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._chunks: list[bytes] = []
        self._waiting = 0
        self._done = False
        self._failed: Exception | None = None
        self._ready: asyncio.Future[None] | None = None
        self._pause, self._resume = pause, resume
        self._paused = False

    def feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._waiting += len(data)
        if self._waiting > STREAM_BUFFER and not self._paused:
            self._paused = True
            self._pause()
        self._wake()

    def end(self, failure: Exception | None = None) -> None:
        self._done = True
        self._failed = failure
        self._wake()

    def _wake(self) -> None:
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.set_result(None)

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        while not self._chunks:
            if self._done:
                if self._failed is not None:
                    raise self._failed
                raise StopAsyncIteration
            self._ready = asyncio.get_running_loop().create_future()
            await self._ready
        data = b"".join(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = []
        self._waiting = 0
        if self._paused:
            self._paused = False
            self._resume()
        return data


class HttpProtocol(asyncio.Protocol):
    """One connection. httptools calls the on_* methods while `data_received` feeds it bytes."""

    def __init__(
        self,
        handler: Handler,
        max_body: int,
        too_large: Callable[[Request], Response],
        bad_request: Callable[[], Response],
        fast: FastPath | None = None,
        body_cap: BodyCap | None = None,
        stream_cap: StreamCap | None = None,
    ) -> None:
        self._handler = handler
        self._body_cap = body_cap
        self._stream_cap = stream_cap
        self._streaming: BodyStream | None = None  # the body of the request in flight, still arriving
        self._fast = fast
        self._max_body = max_body
        self._too_large = too_large
        self._bad_request = bad_request
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._peer = ""
        self._url = b""
        self._headers: dict[str, str] = {}
        self._repeated: dict[str, list[str]] | None = None
        self._spelled: dict[str, str] | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._cap = min(max_body, _UNCHECKED_BODY)  # until the request's own cap is known
        self._cap_known = False
        self._header_count = 0
        self._header_bytes = 0
        self._oversize = False
        self._lingering = False  # a 413 is sent: what still comes is dropped, not parsed
        self._large = False  # a body over _UNCHECKED_BODY was read: trim the heap once it is answered
        self._head_request = False
        # Requests waiting for the one in flight: (request, keep_alive), or (None, final error response).
        self._queue: list[tuple[Request | None, bool | Response]] = []
        self._busy = False
        self._closing = False
        self._pump: asyncio.Task[None] | None = None  # a streamed response being sent
        self._writable: asyncio.Future[None] | None = None  # set while the transport's buffer is full

    # -- asyncio --------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's transport is not a subclass
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else ""  # aws:SourceIp

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._streaming is not None:  # the handler sees the body cut short (nothing half-written is kept)
            self._streaming.end(ConnectionResetError("the client went away before the body ended"))
            self._streaming = None
        self._body = []  # the parser and this protocol refer to each other: only a full GC would free them
        if self._pump is not None:
            self._pump.cancel()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserUpgrade, httptools.HttpParserError) as exc:
            if isinstance(exc.__context__, _HeadersTooLarge):
                self._fail(self._too_many_headers())
            else:
                self._fail(self._bad_request())

    def _too_many_headers(self) -> Response:
        response = self._bad_request()
        return Response(431, response.headers, response.body.replace(b"Malformed HTTP request", b"Headers too large"))

    def _fail(self, response: Response) -> None:
        """A request could not be parsed: answer it after every earlier request on this connection has
        been answered (responses stay in order), then close; nothing more is read."""
        if self._transport is not None:
            self._transport.pause_reading()
        if self._busy or self._queue:
            self._queue.append((None, response))
        else:
            self._send(response, keep_alive=False)

    # -- httptools callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._repeated = None
        self._spelled = None
        self._body = []
        self._body_size = 0
        self._cap = min(self._max_body, _UNCHECKED_BODY)
        self._cap_known = False
        self._header_count = 0
        self._header_bytes = 0
        self._oversize = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        if self._header_count > MAX_HEADERS or self._header_bytes > MAX_HEADER_BYTES:
            raise _HeadersTooLarge
        raw = name.decode("latin-1")
        key = raw.lower()
        text = value.decode("latin-1")
        if raw != key:
            if self._spelled is None:
                self._spelled = {}
            self._spelled[key] = raw
        if key in self._headers:
            old = self._headers[key]
            self._headers[key] = f"{old},{text}"
            if self._repeated is None:
                self._repeated = {}
            self._repeated.setdefault(key, [old]).append(text)
        else:
            self._headers[key] = text

    def on_headers_complete(self) -> None:
        if not self._header_count and self._parser.get_http_version() == "0.9":  # 0.9 has no headers
            raise _BadRequestLine
        streamed = self._stream_cap is not None and not self._busy and self._parser.get_method() in (b"PUT", b"POST")
        cap = self._stream_cap_of() if streamed else None
        length = self._headers.get("content-length")
        too_long = length is not None and length.isdigit() and int(length) > (self._cap if cap is None else cap)
        if too_long and (cap is not None or self._grow_cap(int(length or 0))):
            self._refuse_oversize()
            return
        if self._headers.get("expect", "").lower() == "100-continue" and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if cap is not None:
            self._stream(cap)

    def _stream_cap_of(self) -> int | None:
        assert self._stream_cap is not None
        try:
            return self._stream_cap(self._request())
        except Exception:  # a routing bug: read the body whole instead
            log.exception("stream cap lookup failed")
            return None

    def _stream(self, cap: int) -> None:
        """An operation that takes its body as a stream starts now, and reads the body as it arrives."""
        transport = self._transport
        if transport is None:
            return
        self._cap, self._cap_known = cap, True
        request = self._request()
        self._streaming = BodyStream(transport.pause_reading, transport.resume_reading)
        request.body_stream = self._streaming
        self._start(request, self._parser.should_keep_alive())

    def _grow_cap(self, size: int) -> bool:
        """The body is past the cap every request gets: look up this request's own cap (once per
        request). True if `size` is over it."""
        if not self._cap_known:
            self._cap_known = True
            cap = self._max_body
            if self._body_cap is not None:
                try:
                    cap = min(cap, self._body_cap(self._request()))
                except Exception:  # a routing bug: the server's hard cap still holds
                    log.exception("body cap lookup failed")
            self._cap = cap
        return size > self._cap

    def _refuse_oversize(self) -> None:
        """Answer 413 at once and half-close, then linger: drop what the client still sends, unparsed,
        until it closes or `LINGER_SECONDS` pass."""
        self._oversize = True
        transport = self._transport
        if transport is None or self._closing:
            return
        transport.write(encode_response(self._too_large(self._request()), keep_alive=False))
        self._closing = True
        self._lingering = True
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)

    def on_body(self, body: bytes) -> None:
        if self._oversize:
            return
        self._body_size += len(body)
        if self._streaming is not None:
            if self._body_size > self._cap:
                self._streaming.end(ConnectionAbortedError("the body is larger than its operation takes"))
                self._streaming = None
                self._refuse_oversize()
                return
            self._streaming.feed(body)
            return
        if self._body_size > self._cap and self._grow_cap(self._body_size):
            self._body = []
            self._refuse_oversize()
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._oversize:  # lingering: the client's close, or the timer, ends the connection
            return
        if self._streaming is not None:  # its handler started with the headers
            self._streaming.end()
            self._streaming = None
            return
        request = self._request()
        keep_alive = self._parser.should_keep_alive()
        if self._cap_known:  # only bodies past _UNCHECKED_BODY look their cap up
            self._large = True
            self._body = []  # the request has its joined copy; an idle connection holds no chunks
        if self._busy:
            self._queue.append((request, keep_alive))
        else:
            self._start(request, keep_alive)

    # -- handling -------------------------------------------------------------------------------
    def _request(self) -> Request:
        url = self._url.decode("latin-1")
        path, _, query = url.partition("?")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        method = self._parser.get_method().decode("latin-1")
        return Request(
            method, path, query, self._headers, body, repeated=self._repeated, spelled=self._spelled, peer=self._peer
        )

    def _start(self, request: Request, keep_alive: bool) -> None:
        self._busy = True
        self._head_request = request.method == "HEAD"
        if self._fast is not None:
            try:
                if self._fast(request, lambda response: self._answer(response, keep_alive)):
                    return
            except Exception:  # a shortcut's bug: the general path still answers
                log.exception("the fast path failed on %s %s", request.method, request.path)
        task: asyncio.Task[Response] = asyncio.get_running_loop().create_task(self._handler(request))
        task.add_done_callback(lambda t: self._finish(t, keep_alive))

    def _finish(self, task: asyncio.Task[Response], keep_alive: bool) -> None:
        if task.cancelled():
            self._busy = False
            return
        if self._streaming is not None:  # answered before its body ended: the rest is dropped with the connection
            self._streaming.end()
            self._streaming = None
            self._oversize = True
            keep_alive = False
            if self._transport is not None:
                self._transport.resume_reading()
        exc = task.exception()
        if exc is not None:  # the handler maps every error; this is a last resort
            log.error("unhandled error in request handler", exc_info=exc)
            self._busy = False
            self._send(Response(500, [("Content-Type", "application/json")], b'{"message":"internal"}'), False)
            return
        self._answer(task.result(), keep_alive)

    def _answer(self, response: Response, keep_alive: bool) -> None:
        """The request in flight is answered: send it, then start the next one waiting, if any (on the next
        turn of the loop: a fast path answers before it gives back what it used)."""
        if self._large:
            self._large = False
            heap.trim_soon()
        if response.stream is not None:
            self._send_stream(response, response.stream, keep_alive)
            return
        self._busy = False
        self._send(response, keep_alive)
        if self._queue:
            self._busy = True  # until the next one starts
            asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        self._busy = False
        if self._queue and self._transport is not None:
            request, then = self._queue.pop(0)
            if request is None:
                assert isinstance(then, Response)
                self._send(then, keep_alive=False)
            else:
                assert isinstance(then, bool)
                self._start(request, then)

    def _send(self, response: Response, keep_alive: bool) -> None:
        if self._transport is None or self._closing:
            return
        self._transport.write(encode_response(response, keep_alive, head=self._head_request))
        if not keep_alive:
            self._closing = True
            self._transport.close()

    # -- streamed responses -----------------------------------------------------------------------
    def _send_stream(self, response: Response, chunks: AsyncIterator[bytes], keep_alive: bool) -> None:
        """Send the head now and the chunks as they come; the connection stays busy until the last."""
        loop = asyncio.get_running_loop()
        if self._transport is None or self._closing or self._head_request:
            if self._transport is not None and not self._closing:
                self._transport.write(encode_stream_head(response, keep_alive))
            self._pump = loop.create_task(self._pump_chunks(_no_chunks(chunks), keep_alive, response.length))
            return
        self._transport.write(encode_stream_head(response, keep_alive))
        self._pump = loop.create_task(self._pump_chunks(chunks, keep_alive, response.length))

    async def _pump_chunks(self, chunks: AsyncIterator[bytes], keep_alive: bool, length: int | None = None) -> None:
        complete = False
        framed = length is None  # a known length goes out as is, else each piece is a chunk
        try:
            async for chunk in chunks:
                transport = self._transport
                if transport is None:
                    break
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if framed else chunk)
                if self._writable is not None:
                    await self._writable
            else:
                complete = True
        except asyncio.CancelledError:
            pass  # the client went away
        except Exception:  # the producer's bug: the head is sent, so the only signal left is to cut the body
            log.exception("a streamed response failed")
        finally:
            self._pump = None
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except Exception:
                    log.exception("closing a streamed response failed")
        transport = self._transport
        if transport is None:
            return
        if not complete:
            self._closing = True
            transport.close()
            return
        if not self._head_request and framed:
            transport.write(b"0\r\n\r\n")
        if not keep_alive:
            self._closing = True
            transport.close()
            return
        self._busy = False
        if self._queue:
            self._busy = True
            asyncio.get_running_loop().call_soon(self._next)


async def _no_chunks(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """An empty body in place of `chunks` (a HEAD request, a closed connection), closing them at once."""
    closer = getattr(chunks, "aclose", None)
    if closer is not None:
        await closer()
    return
    yield b""


async def serve(
    handler: Handler,
    host: str,
    port: int,
    max_body: int,
    too_large: Callable[[Request], Response],
    bad_request: Callable[[], Response],
    fast: FastPath | None = None,
    sock: socket.socket | None = None,
    body_cap: BodyCap | None = None,
    stream_cap: StreamCap | None = None,
) -> asyncio.Server:
    """Serve on `host`:`port`, or on the listening `sock` (one bound in an environment's private network
    namespace, so the function reaches this server at its own loopback address)."""
    loop = asyncio.get_running_loop()

    def protocol() -> HttpProtocol:
        return HttpProtocol(handler, max_body, too_large, bad_request, fast, body_cap, stream_cap)

    if sock is not None:
        return await loop.create_server(protocol, sock=sock, backlog=64)
    return await loop.create_server(protocol, host, port, reuse_address=True, backlog=1024)
