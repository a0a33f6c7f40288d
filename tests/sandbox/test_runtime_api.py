"""The Runtime API endpoint in-process, with a raw socket as the runtime: headers, states, error codes."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from lamina.sandbox.runtime_api import ApiState, ReplyKind, RuntimeApi
from lamina.types import Invocation
from tests.invoke.harness import Loop


async def exchange(address: str, raw: bytes, responses: int = 1) -> list[tuple[int, dict[str, str], bytes]]:
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    out = []
    for _ in range(responses):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        out.append((status, headers, body))
    writer.close()
    return out


def get_next() -> bytes:
    return b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path: str, body: bytes, *headers: str) -> bytes:
    extra = "".join(h + "\r\n" for h in headers)
    head = f"POST /2018-06-01/runtime/{path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def test_next_carries_every_header_and_response_is_accepted(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=100)
        address = await api.listen()
        waiting = asyncio.ensure_future(exchange(address, get_next()))
        await asyncio.wait_for(api.ready, 5)
        assert api.state is ApiState.IDLE
        inv = Invocation(
            request_id="r-1", payload=b'{"k": 1}', invoked_arn="arn:aws:lambda:us-east-1:0:function:f:live",
            client_context='{\n "custom": {}\n}', cognito_identity='{"cognitoIdentityId": "i"}',
            trace_id="Root=1-abc",
        )  # fmt: skip
        result = api.deliver(inv, 1700000003000)
        ((status, headers, payload),) = await waiting
        assert status == 200 and payload == b'{"k": 1}'
        assert headers["lambda-runtime-aws-request-id"] == "r-1"
        assert headers["lambda-runtime-deadline-ms"] == "1700000003000"
        assert headers["lambda-runtime-invoked-function-arn"] == "arn:aws:lambda:us-east-1:0:function:f:live"
        assert headers["lambda-runtime-trace-id"] == "Root=1-abc"
        assert json.loads(headers["lambda-runtime-client-context"]) == {"custom": {}}
        assert headers["lambda-runtime-cognito-identity"] == '{"cognitoIdentityId": "i"}'
        assert headers["content-type"] == "application/json"
        # Wrong id, then the right one (pipelined with the next `next`), then the same id again.
        replies = await exchange(
            address,
            post("invocation/r-0/response", b"1") + post("invocation/r-1/response", b'"ok"') + get_next(),
            responses=2,
        )
        assert [r[0] for r in replies] == [400, 202]
        assert json.loads(replies[0][2]) == {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
        assert json.loads(replies[1][2]) == {"status": "OK"}
        reply = await result
        assert (reply.kind, reply.body) == (ReplyKind.RESPONSE, b'"ok"')
        (again,) = await exchange(address, post("invocation/r-1/response", b"1"))
        assert again[0] == 400
        api.close()

    loop.run(body())


def test_error_init_error_too_large_and_states(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=20)
        address = await api.listen()
        (early,) = await exchange(address, post("invocation/x/response", b"1"))
        assert early[0] == 403 and json.loads(early[2])["errorType"] == "InvalidStateTransition"
        (unknown,) = await exchange(address, b"GET /2018-06-01/nope HTTP/1.1\r\n\r\n")
        assert unknown[0] == 404
        waiting = asyncio.ensure_future(exchange(address, get_next()))
        await asyncio.wait_for(api.ready, 5)
        result = api.deliver(Invocation("r-2", b"{}", "arn"), 1)
        await waiting
        (accepted,) = await exchange(
            address,
            post("invocation/r-2/error", b'{"errorType":"X"}', "Lambda-Runtime-Function-Error-Type: Function.Bad"),
        )
        assert accepted[0] == 202
        reply = await result
        assert (reply.kind, reply.error_type) == (ReplyKind.ERROR, "Function.Bad")
        result = api.deliver(Invocation("r-3", b"{}", "arn"), 1)
        await exchange(address, get_next())
        (too_big,) = await exchange(address, post("invocation/r-3/response", b"x" * 21))
        assert too_big[0] == 413
        assert json.loads(too_big[2]) == {
            "errorMessage": "Exceeded maximum allowed payload size (20 bytes).",
            "errorType": "RequestEntityTooLarge",
        }
        assert (await result).kind is ReplyKind.TOO_LARGE
        (late_init,) = await exchange(address, post("init/error", b"{}"))
        assert late_init[0] == 403
        api.close()

        api2 = RuntimeApi(max_response_bytes=10)
        address2 = await api2.listen()
        (init,) = await exchange(
            address2, post("init/error", b'{"errorType":"Runtime.X"}', "Lambda-Runtime-Function-Error-Type: Runtime.X")
        )
        assert init[0] == 202
        ready = await api2.ready
        assert ready is not None and ready.kind is ReplyKind.INIT_ERROR and ready.error_type == "Runtime.X"
        api2.close()

    loop.run(body())


def test_private_channel_sends_a_pipelined_posts_202_with_the_next_event(loop: Loop) -> None:
    """On Lamina's own runtime's socketpair, `POST …/response` + `GET …/next` in one write get their two
    answers in one write, when the next event exists (the runtime then wakes once per invoke); over TCP the
    202 goes out at once, as above."""

    async def body() -> None:
        api = RuntimeApi(max_response_bytes=100)
        ours, theirs = socket.socketpair()
        theirs.setblocking(False)
        await api.attach(ours)
        loop = asyncio.get_running_loop()

        async def read_until(end: bytes) -> bytes:
            data = b""
            while not data.endswith(end):
                data += await asyncio.wait_for(loop.sock_recv(theirs, 65536), 5)
            return data

        await loop.sock_sendall(theirs, get_next())
        await asyncio.wait_for(api.ready, 5)
        first = api.deliver(Invocation(request_id="r-1", payload=b"{}", invoked_arn="arn"), 0)
        await read_until(b"{}")
        await loop.sock_sendall(theirs, post("invocation/r-1/response", b'"ok"') + get_next())
        assert (await asyncio.wait_for(first, 5)).body == b'"ok"'
        # The platform has parsed both requests (the post's result is in): had it answered the post, the
        # 202 would be readable now.
        with pytest.raises(BlockingIOError):
            theirs.recv(65536)
        api.deliver(Invocation(request_id="r-2", payload=b"[2]", invoked_arn="arn"), 0)
        together = await read_until(b"[2]")
        assert together.startswith(b"HTTP/1.1 202 Accepted") and b"r-2" in together
        theirs.close()
        api.close()

    loop.run(body())


def test_a_reply_callback_is_called_once_and_close_ends_what_is_in_flight(loop: Loop) -> None:
    async def body() -> None:
        api = RuntimeApi(max_response_bytes=100)
        address = await api.listen()
        waiting = asyncio.ensure_future(exchange(address, get_next()))
        await asyncio.wait_for(api.ready, 5)
        replies: list[tuple[ReplyKind, bytes]] = []
        api.deliver(
            Invocation(request_id="r-1", payload=b"{}", invoked_arn="arn"),
            0,
            lambda r: replies.append((r.kind, r.body)),
        )
        await waiting
        (accepted,) = await exchange(address, post("invocation/r-1/response", b'"ok"'))
        assert accepted[0] == 202 and replies == [(ReplyKind.RESPONSE, b'"ok"')]
        waiting = asyncio.ensure_future(exchange(address, get_next()))
        api.deliver(
            Invocation(request_id="r-2", payload=b"{}", invoked_arn="arn"),
            0,
            lambda r: replies.append((r.kind, r.body)),
        )
        await waiting
        api.close()
        api.close()
        assert replies[1:] == [(ReplyKind.EXITED, b"")]

    loop.run(body())
