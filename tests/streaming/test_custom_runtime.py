"""A custom runtime (provided.al2023) that streams its response itself, as AWS allows for languages without
native streaming: a chunked `POST …/response` with `Lambda-Runtime-Function-Response-Mode: streaming`,
written over a plain socket, the error (when asked for) in the trailers."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.lambda_api.invoke_support import package
from tests.server import LaminaProcess

BOOTSTRAP = r"""#!/usr/bin/python3
import base64, json, os, socket, time

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
sock = socket.create_connection((host, int(port)))
reader = sock.makefile("rb")

def read_response():
    status = reader.readline()
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", "0")))

while True:
    sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
    _, headers, body = read_response()
    event = json.loads(body)
    request_id = headers["lambda-runtime-aws-request-id"]
    sock.sendall(
        f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
        "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: text/plain\r\n"
        "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    for part in event["parts"]:
        data = part.encode()
        sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))
        time.sleep(event.get("pause", 0))
    if event.get("fail"):
        doc = json.dumps({"errorType": "Custom.Failure", "errorMessage": "the runtime gave up"}).encode()
        sock.sendall(
            b"0\r\nLambda-Runtime-Function-Error-Type: Custom.Failure\r\n"
            b"Lambda-Runtime-Function-Error-Body: " + base64.b64encode(doc) + b"\r\n\r\n"
        )
    else:
        sock.sendall(b"0\r\n\r\n")
    read_response()
"""


def test_a_custom_runtime_streams_with_chunks_and_trailers(
    lamina: LaminaProcess, create_function: Any, fn_name: str
) -> None:
    create_function(
        fn_name, Runtime="provided.al2023", Handler="unused", Code={"ZipFile": package({"bootstrap": BOOTSTRAP})}
    )
    client = lamina.client()
    client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    started = time.monotonic()
    response = client.invoke_with_response_stream(
        FunctionName=fn_name, Payload=json.dumps({"parts": ["early ", "late"], "pause": 0.8})
    )
    arrivals = []
    complete: dict[str, Any] = {}
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            arrivals.append((time.monotonic() - started, event["PayloadChunk"]["Payload"]))
        else:
            complete = event["InvokeComplete"]
    assert b"".join(chunk for _, chunk in arrivals) == b"early late"
    assert arrivals[0][1] == b"early " and arrivals[-1][0] - arrivals[0][0] >= 0.7  # sent before the pause
    assert complete == {}

    failed = client.invoke_with_response_stream(FunctionName=fn_name, Payload=json.dumps({"parts": ["x"], "fail": 1}))
    events = list(failed["EventStream"])
    assert [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e] == [b"x"]
    assert events[-1] == {"InvokeComplete": {"ErrorCode": "Custom.Failure", "ErrorDetails": "the runtime gave up"}}
    buffered = client.invoke(FunctionName=fn_name, Payload=json.dumps({"parts": ["x"], "fail": 1}))
    assert buffered["FunctionError"] == "Unhandled"
    assert json.loads(buffered["Payload"].read()) == {
        "errorType": "Custom.Failure",
        "errorMessage": "the runtime gave up",
    }
