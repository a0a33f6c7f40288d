"""The warm-invoke shortcut (services/lambda_/fast_invoke.py) against the general path, on a real server.

The same request is sent plain (the shortcut takes it) and with `?Qualifier=$LATEST` (the general path takes
it); the answers must match byte for byte apart from the request id and the Date. `/health` counts the
requests the shortcut took, so each test also shows which path answered.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.request
from typing import Any

import pytest

from tests.lambda_api.invoke_support import Deployer, doc, request_id, wait_active
from tests.server import LaminaProcess

HANDLERS = """
import json, os, sys, time

def ok(event, context):
    return {"echo": event, "version": context.function_version}

def fail(event, context):
    raise ValueError("bad " + json.dumps(event))

def big(event, context):
    return "x" * 7_000_000

def crash(event, context):
    if event:  # the warming invoke sends {}
        sys.stdout.flush()
        os._exit(3)

def slow(event, context):
    if event:
        time.sleep(30)

def chatty(event, context):
    print("hello", event.get("n"))
    return event

def raw(event, context):
    return "caf\\u00e9 \\u2603"
"""

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def fast_count(server: LaminaProcess) -> int:
    with urllib.request.urlopen(server.url + "/health") as reply:
        count: int = json.loads(reply.read())["fastInvokes"]
    return count


class Raw:
    """One keep-alive connection; answers as (status line, headers without Date, body)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = f"POST {path} HTTP/1.1\r\nHost: t\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        self.sock.sendall(head.encode() + body)
        return self.read()

    def read(self) -> tuple[str, list[tuple[str, str]], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        raw_head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        fields = [(name, value) for name, _, value in (line.partition(": ") for line in lines[1:])]
        length = int(dict(fields)["Content-Length"])
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        return lines[0], fields, rest[:length]

    def close(self) -> None:
        self.sock.close()


def both_ways(server: LaminaProcess, name: str, body: bytes = b"{}") -> tuple[Any, Any]:
    """The answer of the shortcut and of the general path, request ids replaced."""
    conn = Raw(server.port)
    try:
        conn.post(f"/2015-03-31/functions/{name}/invocations", b"{}")  # an environment is warm from here on
        before = fast_count(server)
        fast = conn.post(f"/2015-03-31/functions/{name}/invocations", body)
        assert fast_count(server) == before + 1, "the shortcut did not take the plain invoke"
        general = conn.post(f"/2015-03-31/functions/{name}/invocations?Qualifier=%24LATEST", body)
        assert fast_count(server) == before + 1, "the shortcut took a qualified invoke"
    finally:
        conn.close()
    return normalise(fast), normalise(general)


def normalise(answer: tuple[str, list[tuple[str, str]], bytes]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Headers in order, with the request id's value replaced (it must be one) and the Date left out."""
    status, headers, body = answer
    kept = []
    for name, value in headers:
        if name == "x-amzn-RequestId":
            assert _ID.fullmatch(value)
            kept.append((name, "<id>"))
        elif name != "Date":
            kept.append((name, value))
    return status, kept, _ID.sub("<id>", body.decode("utf-8", "replace")).encode()


@pytest.fixture(scope="module")
def handlers(deployer: Deployer) -> str:
    return deployer.create({"app.py": HANDLERS}, handler="app.ok", Timeout=30)


@pytest.mark.parametrize("handler", ["ok", "fail", "big", "crash", "slow", "raw"])
def test_shortcut_answers_as_the_general_path(lamina: LaminaProcess, deployer: Deployer, handler: str) -> None:
    timeout = 1 if handler == "slow" else 30
    name = deployer.create({"app.py": HANDLERS}, handler=f"app.{handler}", Timeout=timeout)
    fast, general = both_ways(lamina, name, b'{"k": [1, 2]}')
    assert fast == general
    status, headers, _body = fast
    assert status == "HTTP/1.1 200 OK" and ("X-Amz-Executed-Version", "$LATEST") in headers
    assert ("Content-Type", "application/json") in headers  # as AWS answers a RequestResponse invoke


def test_plain_invokes_through_boto3_take_the_shortcut(lamina: LaminaProcess, api: Any, handlers: str) -> None:
    api.invoke(FunctionName=handlers, Payload=b"{}")  # warm
    before = fast_count(lamina)
    reply = api.invoke(FunctionName=handlers, Payload=b'{"a": 1}')
    assert doc(reply) == {"echo": {"a": 1}, "version": "$LATEST"}
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert fast_count(lamina) == before + 1


def test_everything_else_takes_the_general_path(lamina: LaminaProcess, api: Any, handlers: str) -> None:
    """Tail logs, client context, DryRun, Event, bad JSON, unknown functions and cold starts: answered as
    before, none of them by the shortcut."""
    api.invoke(FunctionName=handlers, Payload=b"{}")
    before = fast_count(lamina)
    tail = api.invoke(FunctionName=handlers, Payload=b"{}", LogType="Tail")
    assert "LogResult" in tail and tail["StatusCode"] == 200
    ctx = api.invoke(FunctionName=handlers, Payload=b"{}", ClientContext="eyJjdXN0b20iOnt9fQ==")
    assert ctx["StatusCode"] == 200
    assert api.invoke(FunctionName=handlers, InvocationType="DryRun")["StatusCode"] == 204
    assert api.invoke(FunctionName=handlers, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(api.exceptions.InvalidRequestContentException):
        api.invoke(FunctionName=handlers, Payload=b"{not json")
    with pytest.raises(api.exceptions.ResourceNotFoundException):
        api.invoke(FunctionName=handlers + "-missing", Payload=b"{}")
    assert fast_count(lamina) == before
    # A configuration change retires the warm environments: the next invoke is a cold start.
    api.update_function_configuration(FunctionName=handlers, Environment={"Variables": {"COLD": "1"}})
    wait_active(api, handlers)
    cold = api.invoke(FunctionName=handlers, Payload=b"{}")
    assert cold["StatusCode"] == 200 and "FunctionError" not in cold
    assert fast_count(lamina) == before


def test_shortcut_invocations_are_logged_in_order(lamina: LaminaProcess, api: Any, deployer: Deployer) -> None:
    name = deployer.create({"app.py": HANDLERS}, handler="app.chatty")
    api.invoke(FunctionName=name, Payload=b"{}")
    before = fast_count(lamina)
    ids = [request_id(api.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())) for n in range(3)]
    assert fast_count(lamina) == before + 3
    logs = lamina.client("logs")
    group = f"/aws/lambda/{name}"
    deadline = time.monotonic() + 10
    while True:  # the store's writer thread commits queued lines every 50 ms; read them as users do
        try:
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            streams = []
        lines = [
            event["message"]
            for stream in streams
            for event in logs.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
            )["events"]
        ]
        if sum(line.startswith("REPORT") for line in lines) == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    for n, rid in enumerate(ids):
        at = lines.index(f"START RequestId: {rid} Version: $LATEST")
        assert lines[at + 1] == f"hello {n}"
        assert lines[at + 2] == f"END RequestId: {rid}"
        report = rf"REPORT RequestId: {rid}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
        report += r"Memory Size: 128 MB\tMax Memory Used: [1-9]\d* MB\t"
        assert re.fullmatch(report, lines[at + 3]), lines[at + 3]


def test_pipelined_invokes_are_answered_in_order(lamina: LaminaProcess, api: Any, handlers: str) -> None:
    api.invoke(FunctionName=handlers, Payload=b"{}")
    before = fast_count(lamina)
    path = f"/2015-03-31/functions/{handlers}/invocations"
    requests = b"".join(
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(str(n))}\r\n\r\n{n}".encode() for n in range(5)
    )
    conn = Raw(lamina.port)
    try:
        conn.sock.sendall(requests)
        answers = [conn.read() for _ in range(5)]
    finally:
        conn.close()
    assert [json.loads(body)["echo"] for _status, _headers, body in answers] == [0, 1, 2, 3, 4]
    assert fast_count(lamina) == before + 5


def test_signed_requests_of_another_region_take_the_shortcut(lamina: LaminaProcess) -> None:
    api = lamina.client(region="eu-west-1")
    deployer = Deployer(api)
    try:
        name = deployer.create({"app.py": HANDLERS}, handler="app.ok")
        api.invoke(FunctionName=name, Payload=b"{}")
        before = fast_count(lamina)
        reply = api.invoke(FunctionName=name, Payload=b'{"r": "eu"}')
        assert doc(reply) == {"echo": {"r": "eu"}, "version": "$LATEST"}
        assert fast_count(lamina) == before + 1
        # The same name in the default region is another function, which does not exist.
        with pytest.raises(api.exceptions.ResourceNotFoundException):
            lamina.client().invoke(FunctionName=name, Payload=b"{}")
    finally:
        deployer.delete_all()


@pytest.mark.parametrize("handler", ["crash", "slow"])
def test_failed_shortcut_invocations_give_their_lease_back(
    lamina: LaminaProcess, api: Any, deployer: Deployer, handler: str
) -> None:
    """With reserved concurrency 1, a lease kept after a crash or a timeout would throttle the next invoke."""
    name = deployer.create({"app.py": HANDLERS}, handler=f"app.{handler}", Timeout=1)
    api.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    api.invoke(FunctionName=name, Payload=b"{}")
    before = fast_count(lamina)
    failed = api.invoke(FunctionName=name, Payload=b'{"fail": 1}')
    assert failed["FunctionError"] == "Unhandled" and fast_count(lamina) == before + 1
    for _ in range(3):
        assert api.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_unsigned_requests_for_other_services_are_not_taken(lamina: LaminaProcess, handlers: str) -> None:
    """The gateway gives an unsigned request with X-Amz-Target to the json services first."""
    conn = Raw(lamina.port)
    try:
        before = fast_count(lamina)
        target = {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}
        status, _headers, body = conn.post(f"/2015-03-31/functions/{handlers}/invocations", b"{}", target)
        assert fast_count(lamina) == before
        assert status == "HTTP/1.1 200 OK" and "echo" not in json.loads(body)
    finally:
        conn.close()


def health(server: LaminaProcess) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "/health") as reply:
        answer: dict[str, Any] = json.loads(reply.read())
    return answer


def test_event_shortcut_answers_as_the_general_path(lamina: LaminaProcess, api: Any, handlers: str) -> None:
    """The plain async invoke is committed and answered 202 by the shortcut with the general path's bytes;
    oversized, unparseable or qualified ones are left to the general path and get its answers."""
    event = {"X-Amz-Invocation-Type": "Event"}
    path = f"/2015-03-31/functions/{handlers}/invocations"
    conn = Raw(lamina.port)
    try:
        before = health(lamina)
        fast = conn.post(path, b'{"k": 1}', event)
        assert health(lamina)["fastEventInvokes"] == before["fastEventInvokes"] + 1
        general = conn.post(path + "?Qualifier=%24LATEST", b'{"k": 1}', event)
        bad = conn.post(path, b"{not json", event)
        large = conn.post(path, b'"' + b"x" * 1_048_600 + b'"', event)
        after = health(lamina)
    finally:
        conn.close()
    assert after["fastEventInvokes"] == before["fastEventInvokes"] + 1
    assert after["fastInvokes"] == before["fastInvokes"]
    assert normalise(fast) == normalise(general)
    assert fast[0] == "HTTP/1.1 202 Accepted" and fast[2] == b""
    assert bad[0] == "HTTP/1.1 400 Bad Request"
    assert ("x-amzn-ErrorType", "InvalidRequestContentException") in bad[1]
    assert large[0] == "HTTP/1.1 413 Request Entity Too Large"
    # Both accepted events run.
    deadline = time.monotonic() + 30
    while health(lamina)["asyncInvocations"]["succeeded"] < before["asyncInvocations"]["succeeded"] + 2:
        assert time.monotonic() < deadline, health(lamina)["asyncInvocations"]
        time.sleep(0.05)


def test_requests_a_front_door_claims_are_not_taken(lamina: LaminaProcess, handlers: str) -> None:
    """A load balancer's (or a function URL's) site may have an /invocations path of its own."""
    conn = Raw(lamina.port)
    try:
        conn.post(f"/2015-03-31/functions/{handlers}/invocations", b"{}")  # warm
        before = health(lamina)
        host = {"Host": "nobody-0123456789abcdef.us-east-1.elb.localhost"}
        for kind in ("RequestResponse", "Event"):
            head = f"POST /2015-03-31/functions/{handlers}/invocations HTTP/1.1\r\nHost: {host['Host']}\r\n"
            head += f"X-Amz-Invocation-Type: {kind}\r\nContent-Length: 2\r\n\r\n"
            conn.sock.sendall(head.encode() + b"{}")
            status, _headers, body = conn.read()
            assert not status.startswith(("HTTP/1.1 200", "HTTP/1.1 202")), (status, body)
        after = health(lamina)
    finally:
        conn.close()
    assert after["fastInvokes"] == before["fastInvokes"]
    assert after["fastEventInvokes"] == before["fastEventInvokes"]
