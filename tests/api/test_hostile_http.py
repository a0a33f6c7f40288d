"""Hostile input at the wire (issue 12 item 17), through a raw socket: bodies over their operation's cap are
refused from Content-Length before they are read (chunked ones as soon as they pass it), malformed HTTP
gets a 400/431 answer instead of a silent close, and the server keeps serving."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import LaminaProcess

SIGNED = (
    "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host, Signature=0\r\n"
)
INVOKE = "POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\nHost: x\r\n" + SIGNED.format(service="lambda")

# The server answers 413 at once but reads the body to its end before closing; exchange() waits for the close.
UNFINISHED_413 = pytest.mark.xfail(strict=True, reason="unfinished: 413 answered, connection closed only at body end")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    process = LaminaProcess(tmp_path_factory.mktemp("hostile")).start()
    yield process
    process.stop()


def exchange(server: LaminaProcess, data: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Sends `data`, then `body` (ignoring a reset once the server has answered); the answer, read to close."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    assert raw, "the server closed without answering"
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest[: int(headers.get("content-length", len(rest)))]


def still_serving(server: LaminaProcess) -> None:
    assert server.client().list_functions()["ResponseMetadata"]["HTTPStatusCode"] == 200


@UNFINISHED_413
def test_invoke_over_6mb_refused_from_content_length_before_the_body(server: LaminaProcess) -> None:
    # Only the headers are sent: the answer must come without the server waiting for 50 MB.
    status, headers, body = exchange(server, f"{INVOKE}Content-Length: {50 << 20}\r\n\r\n".encode())
    assert status == 413
    assert headers["x-amzn-errortype"].startswith("RequestEntityTooLargeException")
    assert json.loads(body)["message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    still_serving(server)


@UNFINISHED_413
def test_chunked_invoke_stopped_at_the_cap(server: LaminaProcess) -> None:
    chunk = b"a" * (1 << 20)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))  # 8 MiB, never a final chunk
    status, _, payload = exchange(server, f"{INVOKE}Transfer-Encoding: chunked\r\n\r\n".encode(), body)
    assert status == 413
    assert b"6291456 bytes for the InvokeFunction operation" in payload
    still_serving(server)


@UNFINISHED_413
def test_sns_body_over_its_cap_refused(server: LaminaProcess) -> None:
    request = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + SIGNED.format(service="sns")
        + f"Content-Length: {20 << 20}\r\n\r\n"
    )
    status, headers, body = exchange(server, request.encode())
    assert status == 413
    assert headers["content-type"].startswith("text/xml"), body
    still_serving(server)


def test_5000_headers_answer_431(server: LaminaProcess) -> None:
    many = "".join(f"X-H{i}: v\r\n" for i in range(5000))
    status, _, _ = exchange(server, f"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert status == 431
    still_serving(server)


@pytest.mark.parametrize(
    "data",
    [
        b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"ffffffffffffffffffffffff\r\nx",
        pytest.param(b"GET /\r\n\r\n", marks=pytest.mark.xfail(strict=True, reason="HTTP/0.9 still routed (404)")),
        b"HELLO THERE\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n",  # TLS hello on plain HTTP
    ],
    ids=["absurd-chunk-size", "http-0.9", "no-version", "extra-token", "tls-hello"],
)
def test_malformed_http_answers_400(server: LaminaProcess, data: bytes) -> None:
    status, _, _ = exchange(server, data)
    assert status == 400
    still_serving(server)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_concurrent_oversize_bodies_do_not_grow_the_server(server: LaminaProcess) -> None:
    """12 concurrent 50 MB Invoke bodies once took the server from 61 MB to 785 MB (and kept ~670 MB)."""
    assert server.proc is not None
    before = _rss_kb(server.proc.pid)
    body = b"x" * (50 << 20)
    head = f"{INVOKE}Content-Length: {len(body)}\r\n\r\n".encode()
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(exchange(server, head, body)[0])) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [413] * 12
    still_serving(server)
    after = _rss_kb(server.proc.pid)
    assert after - before < 32 * 1024, (before, after)
