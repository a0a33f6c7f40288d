"""Hostile input at the wire (issue 12 item 17), through a raw socket: bodies over their operation's cap are
refused from Content-Length before they are read (chunked ones as soon as they pass it), malformed HTTP
gets a 400/431 answer instead of a silent close, and the server keeps serving."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.api.server import LINGER_SECONDS
from tests.server import LaminaProcess

SIGNED = (
    "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host, Signature=0\r\n"
)
INVOKE = "POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\nHost: x\r\n" + SIGNED.format(service="lambda")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    process = LaminaProcess(tmp_path_factory.mktemp("hostile")).start()
    yield process
    process.stop()


def exchange(
    server: LaminaProcess, data: bytes, body: bytes = b"", timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """Sends `data`, then `body` (ignoring a reset once the server has answered); the answer, read to close."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
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


def test_invoke_over_6mb_refused_from_content_length_before_the_body(server: LaminaProcess) -> None:
    # Only the headers are sent: the answer must come without the server waiting for 50 MB.
    status, headers, body = exchange(server, f"{INVOKE}Content-Length: {50 << 20}\r\n\r\n".encode())
    assert status == 413
    assert headers["x-amzn-errortype"].startswith("RequestEntityTooLargeException")
    assert json.loads(body)["message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    still_serving(server)


def test_chunked_invoke_stopped_at_the_cap(server: LaminaProcess) -> None:
    chunk = b"a" * (1 << 20)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))  # 8 MiB, never a final chunk
    status, _, payload = exchange(server, f"{INVOKE}Transfer-Encoding: chunked\r\n\r\n".encode(), body)
    assert status == 413
    assert b"6291456 bytes for the InvokeFunction operation" in payload
    still_serving(server)


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


@pytest.mark.parametrize(
    ("content_type", "target", "answer_type"),
    [
        ("application/x-amz-json-1.0", "X-Amz-Target: AmazonSQS.SendMessage\r\n", "application/x-amz-json-1.0"),
        ("application/x-www-form-urlencoded", "", "text/xml"),
    ],
    ids=["json", "query"],
)
def test_sqs_body_over_its_cap_refused_in_the_protocol_it_spoke(
    server: LaminaProcess, content_type: str, target: str, answer_type: str
) -> None:
    request = (
        f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{target}"
        + SIGNED.format(service="sqs")
        + f"Content-Length: {20 << 20}\r\n\r\n"
    )
    status, headers, body = exchange(server, request.encode())
    assert status == 413
    assert headers["content-type"].startswith(answer_type), body
    if answer_type == "text/xml":
        assert b"<Code>RequestEntityTooLargeException</Code>" in body
    else:
        assert json.loads(body)["__type"].endswith("RequestEntityTooLargeException")
    still_serving(server)


@pytest.mark.slow
def test_a_client_that_never_stops_sending_is_closed_after_the_413(server: LaminaProcess) -> None:
    """After the 413 the rest of the body is dropped for a few seconds, not read forever."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"{INVOKE}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n%s\r\n" % (1 << 16, b"a" * (1 << 16))
        started = time.monotonic()
        closed = False
        answered = b""
        sock.setblocking(False)
        while time.monotonic() - started < LINGER_SECONDS + 5:
            try:
                sock.send(chunk)
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            try:
                answered += sock.recv(65536)
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed = True
                break
            time.sleep(0.01)
    assert answered.startswith(b"HTTP/1.1 413 "), answered[:100]
    assert closed, "the server kept reading"
    assert time.monotonic() - started >= LINGER_SECONDS - 1
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
        b"GET /\r\n\r\n",
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
    peak = before
    while any(thread.is_alive() for thread in threads):  # RSS sampled while the bodies stream in
        peak = max(peak, _rss_kb(server.proc.pid))
        threads[0].join(0.005)
    for thread in threads:
        thread.join()
    assert statuses == [413] * 12
    still_serving(server)
    after = _rss_kb(server.proc.pid)
    assert peak - before < 32 * 1024, (before, peak, after)
    assert after - before < 16 * 1024, (before, peak, after)
    print(f"server RSS before {before} kB, peak {peak} kB, after {after} kB")


@pytest.mark.slow
def test_memory_comes_back_after_concurrent_large_bodies_under_the_cap(server: LaminaProcess) -> None:
    """12 concurrent 50 MB CreateFunction bodies (under its 70 MB cap, so read whole) took the server from
    64 MB to 1.1 GB and left it at 680 MB: each closed connection kept its chunks until a full GC, and glibc
    kept the freed heap. Now the peak is the bodies themselves and the server comes back to where it was."""
    assert server.proc is not None
    pid = server.proc.pid
    before = _rss_kb(pid)
    code = b"A" * (50 << 20)  # valid base64, not a zip: the request is read, parsed and refused (400)
    body = b'{"FunctionName":"big","Role":"%s","Runtime":"python3.12","Handler":"a.b","Code":{"ZipFile":"%s"}}' % (
        b"arn:aws:iam::000000000000:role/r",
        code,
    )
    head = (
        "POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + SIGNED.format(service="lambda")
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(exchange(server, head, body, timeout=120)[0]))
        for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    peak = before
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, _rss_kb(pid))
        threads[0].join(0.005)
    assert statuses == [400] * 12
    deadline = time.monotonic() + 10
    after = _rss_kb(pid)
    while after - before >= 32 * 1024 and time.monotonic() < deadline:  # the heap is trimmed just after
        time.sleep(0.05)
        after = _rss_kb(pid)
    print(f"server RSS before {before} kB, peak {peak} kB, after {after} kB")
    assert peak - before < 900 * 1024, (before, peak, after)
    assert after - before < 32 * 1024, (before, peak, after)
    still_serving(server)
