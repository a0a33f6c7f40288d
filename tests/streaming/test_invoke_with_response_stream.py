"""InvokeWithResponseStream through boto3 against a real server: event-stream frames as the function
writes them, errors in mid-stream, buffered functions, limits, and the Node.js `awslambda` global."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import LaminaProcess

NodeFunction = Callable[..., str]

NODE_STREAMING = r"""
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

exports.chunks = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  for (const part of event.parts) {
    responseStream.write(part);
    if (event.pauseMs) await sleep(event.pauseMs);
  }
  responseStream.end();
});

exports.failing = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("partial ");
  await sleep(50);
  throw new TypeError("went wrong mid-stream");
});

exports.http = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { "x-custom": "yes" },
    cookies: ["a=1"],
  });
  stream.write("<p>hello</p>");
  stream.end();
});

exports.big = awslambda.streamifyResponse(async (event, responseStream) => {
  const block = Buffer.alloc(1 << 20, 120);
  for (let i = 0; i < event.mb; i++) {
    if (!responseStream.write(block)) await new Promise((r) => responseStream.once("drain", r));
  }
  responseStream.end();
});

exports.slow = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("started");
  await sleep(60000);
  responseStream.end();
});

exports.unfinished = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("never ended");
});

exports.buffered = async (event) => ({ buffered: event });

// AWS's own sample shape: a Readable piped into the response stream, with a small highWaterMark.
const { Readable, pipeline } = require("stream");
const { promisify } = require("util");
exports.piped = awslambda.streamifyResponse(
  async (event, responseStream) => {
    await promisify(pipeline)(Readable.from(event.parts.map((p) => Buffer.from(p))), responseStream);
  },
  { highWaterMark: 16 },
);
"""


def _events(response: dict[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
    chunks: list[bytes] = []
    complete: dict[str, Any] | None = None
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            assert complete is None, "a chunk after InvokeComplete"
            chunks.append(event["PayloadChunk"]["Payload"])
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert complete is not None, "no InvokeComplete event"
    return chunks, complete


@pytest.fixture(scope="module")
def node_function(lamina: LaminaProcess) -> NodeFunction:
    """One Node.js function per handler of NODE_STREAMING, created on first use."""
    client = lamina.client()
    made: dict[str, str] = {}

    def get(handler: str, timeout: int = 10) -> str:
        if handler not in made:
            name = f"stream-{handler}-{time.monotonic_ns() % 10**9}"
            client.create_function(
                FunctionName=name,
                Runtime="nodejs20.x",
                Role="arn:aws:iam::000000000000:role/lambda-role",
                Handler=f"index.{handler}",
                Timeout=timeout,
                Code={"ZipFile": make_zip({"index.js": NODE_STREAMING})},
            )
            client.get_waiter("function_active_v2").wait(FunctionName=name)
            made[handler] = name
        return made[handler]

    return get


def test_chunks_arrive_as_payload_chunk_events_then_invoke_complete(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    client = lamina.client()
    name = node_function("chunks")
    response = client.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"parts": ["one ", "two"]}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    assert headers["x-amz-executed-version"] == "$LATEST"
    assert headers["transfer-encoding"] == "chunked"
    chunks, complete = _events(response)
    assert b"".join(chunks) == b"one two"
    assert complete == {}


@pytest.mark.slow
def test_the_first_chunk_arrives_while_the_function_still_runs(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    client = lamina.client()
    name = node_function("chunks")
    client.invoke_with_response_stream(FunctionName=name, Payload=b'{"parts": ["warm"]}')  # start it warm
    started = time.monotonic()
    response = client.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps({"parts": ["first", "second"], "pauseMs": 1000})
    )
    arrivals: list[tuple[float, bytes]] = []
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            arrivals.append((time.monotonic() - started, event["PayloadChunk"]["Payload"]))
    total = time.monotonic() - started
    assert b"".join(c for _, c in arrivals) == b"firstsecond"
    first_at = arrivals[0][0]
    assert arrivals[0][1] == b"first"
    # The function sleeps 1 s after each write: the first chunk must come well before it returns.
    assert first_at < 0.6, arrivals
    assert total >= 1.9, total
    assert arrivals[-1][0] - first_at >= 0.9


def test_an_error_mid_stream_ends_in_invoke_complete_with_the_error(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    client = lamina.client()
    response = client.invoke_with_response_stream(FunctionName=node_function("failing"), Payload=b"{}")
    assert response["StatusCode"] == 200
    chunks, complete = _events(response)
    assert b"".join(chunks) == b"partial "
    assert complete["ErrorCode"] == "TypeError"
    assert complete["ErrorDetails"] == "went wrong mid-stream"


def test_a_stream_the_handler_never_ends_is_an_error(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    response = lamina.client().invoke_with_response_stream(FunctionName=node_function("unfinished"), Payload=b"{}")
    chunks, complete = _events(response)
    assert b"".join(chunks) == b"never ended"
    assert complete["ErrorCode"] == "Runtime.InvalidStreamingOperation"
    assert complete["ErrorDetails"] == "Response stream is not finished."


def test_a_timeout_mid_stream_is_reported_in_invoke_complete(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    name = node_function("slow")
    client = lamina.client()
    client.update_function_configuration(FunctionName=name, Timeout=1)
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    response = client.invoke_with_response_stream(FunctionName=name, Payload=b"{}", LogType="Tail")
    chunks, complete = _events(response)
    assert b"".join(chunks) == b"started"
    assert complete["ErrorCode"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in complete["ErrorDetails"]
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in log and "REPORT RequestId" in log


def test_a_readable_piped_into_the_response_stream(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    parts = [f"part {i};" for i in range(50)]
    response = lamina.client().invoke_with_response_stream(
        FunctionName=node_function("piped"), Payload=json.dumps({"parts": parts})
    )
    chunks, complete = _events(response)
    assert b"".join(chunks) == "".join(parts).encode()
    assert complete == {}


def test_a_buffered_function_answers_in_one_chunk(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    response = lamina.client().invoke_with_response_stream(FunctionName=node_function("buffered"), Payload=b'{"a":1}')
    chunks, complete = _events(response)
    assert chunks == [b'{"buffered":{"a":1}}']
    assert complete == {}


def test_python_functions_answer_buffered_as_on_aws(lamina: LaminaProcess, create_function: Any, fn_name: str) -> None:
    code = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return event\n"
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": code})})
    client = lamina.client()
    client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    chunks, complete = _events(client.invoke_with_response_stream(FunctionName=fn_name, Payload=b'{"x": 2}'))
    assert chunks == [b'{"x": 2}'] and complete == {}
    chunks, complete = _events(
        client.invoke_with_response_stream(FunctionName=fn_name, Payload=b'{"fail": 1}', LogType="Tail")
    )
    assert chunks == []
    assert complete["ErrorCode"] == "ValueError"
    assert complete["ErrorDetails"] == "no"
    assert "START RequestId" in base64.b64decode(complete["LogResult"]).decode()


def test_the_http_prelude_reaches_the_stream_unchanged(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    """HttpResponseStream.from writes the metadata JSON and 8 NUL bytes first (what a function URL reads);
    InvokeWithResponseStream passes them through as AWS does."""
    response = lamina.client().invoke_with_response_stream(FunctionName=node_function("http"), Payload=b"{}")
    chunks, complete = _events(response)
    data = b"".join(chunks)
    prelude, _, body = data.partition(b"\0" * 8)
    assert json.loads(prelude) == {"statusCode": 201, "headers": {"x-custom": "yes"}, "cookies": ["a=1"]}
    assert body == b"<p>hello</p>"
    assert complete == {}


def test_plain_invoke_of_a_streaming_function_gets_the_whole_body(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    result = lamina.client().invoke(FunctionName=node_function("chunks"), Payload=b'{"parts": ["a", "b", "c"]}')
    assert "FunctionError" not in result
    assert result["Payload"].read() == b"abc"
    failed = lamina.client().invoke(FunctionName=node_function("failing"), Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "TypeError"


def test_errors_before_the_stream_are_ordinary_api_errors(lamina: LaminaProcess) -> None:
    client = lamina.client()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke_with_response_stream(FunctionName="no-such-function-anywhere", Payload=b"{}")
    with pytest.raises(client.exceptions.ClientError) as bad:
        client.invoke_with_response_stream(FunctionName="no-such-function-anywhere", InvocationType="Event")
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_dry_run_answers_204(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    name = node_function("chunks")
    response = lamina.client().invoke_with_response_stream(FunctionName=name, InvocationType="DryRun")
    assert response["StatusCode"] == 204


@pytest.mark.slow
def test_a_client_that_goes_away_frees_the_environment(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    """Read one frame of a large stream and hang up: the function runs on to its end (its writes are
    dropped, not stuck behind the paused socket), and the next invoke works."""
    name = node_function("big")
    request = (
        f"POST /2021-11-15/functions/{name}/response-streaming-invocations HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{lamina.port}\r\nContent-Length: 9\r\n\r\n" + '{"mb":64}'
    ).encode()
    with socket.create_connection(("127.0.0.1", lamina.port), timeout=10) as sock:
        sock.sendall(request)
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 OK") and b"transfer-encoding: chunked" in head.lower()
    client = lamina.client()
    deadline = time.monotonic() + 20
    while True:  # the abandoned invocation may still hold the one environment for a moment
        chunks, complete = _events(client.invoke_with_response_stream(FunctionName=name, Payload=b'{"mb": 2}'))
        if complete == {} or time.monotonic() > deadline:
            break
    assert complete == {}
    assert sum(len(c) for c in chunks) == 2 << 20


@pytest.mark.slow
def test_a_streamed_response_may_pass_six_mb(lamina: LaminaProcess, node_function: NodeFunction) -> None:
    response = lamina.client().invoke_with_response_stream(FunctionName=node_function("big"), Payload=b'{"mb": 12}')
    chunks, complete = _events(response)
    assert complete == {}
    assert sum(len(c) for c in chunks) == 12 << 20


@pytest.mark.slow
def test_a_stream_past_200_mb_is_cut_with_response_size_too_large(
    lamina: LaminaProcess, node_function: NodeFunction
) -> None:
    client = lamina.client(read_timeout=120)
    response = client.invoke_with_response_stream(FunctionName=node_function("big", 60), Payload=b'{"mb": 201}')
    received = 0
    complete: dict[str, Any] = {}
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            received += len(event["PayloadChunk"]["Payload"])
        else:
            complete = event["InvokeComplete"]
    assert received <= 200 * 1024 * 1024
    assert received > 190 * 1024 * 1024
    assert complete["ErrorCode"] == "Function.ResponseSizeTooLarge"
    assert complete["ErrorDetails"] == (
        "Response payload size exceeded maximum allowed payload size (209715200 bytes)."
    )


def _new_node_function(client: Any, handler: str) -> str:
    name = f"stream-own-{handler}-{time.monotonic_ns() % 10**9}"
    client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler=f"index.{handler}",
        Timeout=10,
        Code={"ZipFile": make_zip({"index.js": NODE_STREAMING})},
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def test_aliases_log_tail_and_client_context(lamina: LaminaProcess) -> None:
    client = lamina.client()
    name = _new_node_function(client, "chunks")
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = client.invoke_with_response_stream(
        FunctionName=name, Qualifier="live", Payload=b'{"parts": ["x"]}', LogType="Tail", ClientContext=context
    )
    assert response["ExecutedVersion"] == version
    chunks, complete = _events(response)
    assert chunks == [b"x"]
    assert set(complete) == {"LogResult"}
    log = base64.b64decode(complete["LogResult"]).decode()
    assert f"START RequestId: {response['ResponseMetadata']['RequestId']} Version: {version}" in log
    assert "REPORT RequestId" in log
    client.delete_function(FunctionName=name)


@pytest.mark.slow
def test_a_stream_holds_its_concurrency_lease_until_it_ends(lamina: LaminaProcess) -> None:
    """The streaming invoke takes the same lease as Invoke: with reserved concurrency 1, a second invoke
    while the first still streams is throttled (429), and works once the first has ended."""
    client = lamina.client()
    name = _new_node_function(client, "chunks")
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    first = client.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps({"parts": ["a", "b"], "pauseMs": 1500})
    )
    stream = iter(first["EventStream"])
    assert next(stream)["PayloadChunk"]["Payload"] == b"a"  # the first invocation is running
    with pytest.raises(client.exceptions.TooManyRequestsException) as throttled:
        client.invoke_with_response_stream(FunctionName=name, Payload=b'{"parts": []}')
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert throttled.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    rest = list(stream)
    assert rest[-1] == {"InvokeComplete": {}}
    chunks, complete = _events(client.invoke_with_response_stream(FunctionName=name, Payload=b'{"parts": ["c"]}'))
    assert chunks == [b"c"] and complete == {}
    client.delete_function(FunctionName=name)
