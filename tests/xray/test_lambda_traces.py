"""Traced invocations through boto3: the trace header a function gets, Lambda's own segments, the SDK's
subsegments sent to the daemon endpoint, and the xray API reading them back."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import LaminaProcess
from tests.xray.conftest import wait_for

TRACE_ID = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]"

# Sends one subsegment to the daemon endpoint the way the X-Ray SDK does (header line, then the document),
# parented by the function segment the trace header names; fails on request to make a function error.
CODE = """
import json, os, socket, time

def handler(event, context):
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    parts = dict(p.split("=", 1) for p in header.split(";") if "=" in p)
    if event.get("subsegment") and parts.get("Sampled") == "1":
        now = time.time()
        doc = {"type": "subsegment", "id": "%016x" % (int(now * 1e6) & (2**64 - 1)), "name": "db-call",
               "trace_id": parts["Root"], "parent_id": parts["Parent"], "start_time": now - 0.01,
               "end_time": now, "namespace": "remote"}
        host, port = os.environ["AWS_XRAY_DAEMON_ADDRESS"].split(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b'{"format": "json", "version": 1}\\n' + json.dumps(doc).encode(), (host, int(port)))
        s.sendto(b"garbage", (host, int(port)))
    if event.get("fail"):
        raise ValueError("boom")
    return {"trace": header, "daemon": os.environ.get("AWS_XRAY_DAEMON_ADDRESS"),
            "missing": os.environ.get("AWS_XRAY_CONTEXT_MISSING")}
"""


def _invoke(lambda_client: Any, name: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    out = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    return {"body": json.loads(out["Payload"].read()), "error": out.get("FunctionError")}


def _summaries(xray: Any, expression: str | None = None, **extra: Any) -> list[dict[str, Any]]:
    now = time.time()
    args: dict[str, Any] = {"StartTime": now - 600, "EndTime": now + 60, **extra}
    if expression:
        args["FilterExpression"] = expression
    got: list[dict[str, Any]] = xray.get_trace_summaries(**args)["TraceSummaries"]
    return got


def _root(trace: str) -> str:
    return dict(p.split("=", 1) for p in trace.split(";"))["Root"]


@pytest.fixture
def traced_function(create_function: Callable[..., dict[str, Any]], fn_name: str) -> str:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})}, TracingConfig={"Mode": "Active"})
    return fn_name


def test_active_tracing_records_lambda_segments(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, traced_function: str
) -> None:
    first = _invoke(lambda_client, traced_function, {"subsegment": True})
    trace = first["body"]["trace"]
    assert first["error"] is None
    assert re.fullmatch(TRACE_ID, trace) and trace.endswith("Sampled=1"), trace
    host, port = first["body"]["daemon"].split(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert first["body"]["missing"] == "LOG_ERROR"
    root = _root(trace)
    parent = dict(p.split("=", 1) for p in trace.split(";"))["Parent"]

    def found() -> list[dict[str, Any]]:
        return [s for s in _summaries(xray, f'service("{traced_function}")') if s["Id"] == root]

    (summary,) = wait_for(found)
    assert summary["HasFault"] is False and summary["HasError"] is False
    assert {(s["Name"], s.get("Type")) for s in summary["ServiceIds"]} == {
        (traced_function, "AWS::Lambda"),
        (traced_function, "AWS::Lambda::Function"),
    }
    assert summary["EntryPoint"]["Type"] == "AWS::Lambda"
    assert summary["ResourceARNs"] == [{"ARN": f"arn:aws:lambda:us-east-1:000000000000:function:{traced_function}"}]
    assert 0 < summary["ResponseTime"] <= summary["Duration"] + 0.001

    def segments() -> list[dict[str, Any]]:
        (got,) = xray.batch_get_traces(TraceIds=[root])["Traces"]
        docs = [json.loads(s["Document"]) for s in got["Segments"]]
        function = [d for d in docs if d.get("origin") == "AWS::Lambda::Function"]
        if function and any(s["name"] == "db-call" for s in function[0].get("subsegments", [])):
            return docs
        return []

    docs = wait_for(segments)
    assert len(docs) == 2
    service = next(d for d in docs if d["origin"] == "AWS::Lambda")
    function = next(d for d in docs if d["origin"] == "AWS::Lambda::Function")
    assert service["trace_id"] == function["trace_id"] == root
    assert service["name"] == function["name"] == traced_function
    assert function["id"] == parent  # the SDK's subsegments hang under the Parent the function was handed
    assert function["parent_id"] == service["id"]
    assert service["aws"]["request_id"] == function["aws"]["request_id"]
    assert function["aws"]["function_arn"].endswith(f":function:{traced_function}")
    names = [s["name"] for s in function["subsegments"]]
    assert names[:3] == ["Initialization", "Invocation", "Overhead"]  # a cold start
    assert names[3] == "db-call"
    for doc in (service, function, *function["subsegments"]):
        assert doc["start_time"] <= doc["end_time"]

    # a warm invocation: no Initialization; a function error marks the function segment as a fault
    failed = _invoke(lambda_client, traced_function, {"fail": True})
    assert failed["error"] == "Unhandled"
    assert failed["body"]["errorType"] == "ValueError"

    def faults() -> list[dict[str, Any]]:
        return [s for s in _summaries(xray, f'service("{traced_function}") AND fault') if s["Id"] != root]

    (faulty,) = wait_for(faults)
    assert faulty["HasFault"] is True
    (got,) = xray.batch_get_traces(TraceIds=[faulty["Id"]])["Traces"]
    function = next(
        d for d in map(json.loads, (s["Document"] for s in got["Segments"])) if d["origin"] == "AWS::Lambda::Function"
    )
    assert function["fault"] is True
    assert function["cause"]["exceptions"][0]["type"] == "ValueError"
    assert function["cause"]["exceptions"][0]["message"] == "boom"
    assert [s["name"] for s in function["subsegments"]] == ["Invocation", "Overhead"]
    assert not [s for s in _summaries(xray, f'service("{traced_function}") AND fault') if s["Id"] == root]

    # the daemon endpoint counted the garbage datagram and kept serving
    health = json.loads(urllib.request.urlopen(f"{lamina.url}/health", timeout=10).read())
    assert health["xray"]["malformed"] >= 1


def test_pass_through_follows_the_callers_decision(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})})  # PassThrough, the default
    unsampled = _invoke(lambda_client, fn_name)["body"]["trace"]
    assert unsampled.endswith("Sampled=0")
    root = f"1-{int(time.time()):08x}-{'ab' * 12}"
    caller = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = caller

    lambda_client.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        body = _invoke(lambda_client, fn_name)["body"]
    finally:
        lambda_client.meta.events.unregister("before-sign.lambda.Invoke", add_header)
    trace = body["trace"]
    assert _root(trace) == root and trace.endswith("Sampled=1")
    assert "53995c3f42cd8ad8" not in trace  # the function gets its own segment's id as Parent

    def trace_docs() -> list[dict[str, Any]]:
        got = xray.batch_get_traces(TraceIds=[root])["Traces"]
        return [json.loads(s["Document"]) for s in got[0]["Segments"]] if got else []

    docs = wait_for(trace_docs)
    service = next(d for d in docs if d["origin"] == "AWS::Lambda")
    assert service["parent_id"] == "53995c3f42cd8ad8"
    # nothing was recorded for the unsampled invocation
    assert xray.batch_get_traces(TraceIds=[_root(unsampled)])["UnprocessedTraceIds"] == [_root(unsampled)]


def test_async_invoke_carries_the_trace_on(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, traced_function: str
) -> None:
    root = f"1-{int(time.time()):08x}-{'cd' * 12}"
    caller = f"Root={root};Parent=1111111111111111;Sampled=1"

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = caller

    lambda_client.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        assert lambda_client.invoke(FunctionName=traced_function, InvocationType="Event")["StatusCode"] == 202
    finally:
        lambda_client.meta.events.unregister("before-sign.lambda.Invoke", add_header)

    def trace_docs() -> list[dict[str, Any]]:
        got = xray.batch_get_traces(TraceIds=[root])["Traces"]
        return [json.loads(s["Document"]) for s in got[0]["Segments"]] if got else []

    docs = wait_for(trace_docs)
    assert {d["origin"] for d in docs} == {"AWS::Lambda", "AWS::Lambda::Function"}
    assert next(d for d in docs if d["origin"] == "AWS::Lambda")["parent_id"] == "1111111111111111"


def test_sqs_message_trace_header_reaches_the_function(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, traced_function: str
) -> None:
    sqs = lamina.client("sqs")
    queue = sqs.create_queue(QueueName=f"{traced_function}-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=traced_function)
    root = f"1-{int(time.time()):08x}-{'ef' * 12}"
    try:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="{}",
            MessageSystemAttributes={
                "AWSTraceHeader": {
                    "DataType": "String",
                    "StringValue": f"Root={root};Parent=2222222222222222;Sampled=1",
                }
            },
        )

        def trace_docs() -> list[dict[str, Any]]:
            got = xray.batch_get_traces(TraceIds=[root])["Traces"]
            return [json.loads(s["Document"]) for s in got[0]["Segments"]] if got else []

        docs = wait_for(trace_docs, timeout=30)
        assert {d["origin"] for d in docs} == {"AWS::Lambda", "AWS::Lambda::Function"}
    finally:
        lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
        sqs.delete_queue(QueueUrl=queue)


def test_service_graph_links_client_lambda_and_function(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, traced_function: str
) -> None:
    _invoke(lambda_client, traced_function, {"subsegment": True})
    now = time.time()

    def graph() -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = xray.get_service_graph(StartTime=now - 600, EndTime=now + 60)["Services"]
        mine = [s for s in services if s.get("Name") == traced_function]
        return services if len(mine) == 2 and any(s.get("Name") == "db-call" for s in services) else []

    services = wait_for(graph)
    by_ref = {s["ReferenceId"]: s for s in services}
    service = next(s for s in services if s.get("Type") == "AWS::Lambda" and s["Name"] == traced_function)
    function = next(s for s in services if s.get("Type") == "AWS::Lambda::Function" and s["Name"] == traced_function)
    assert [by_ref[e["ReferenceId"]]["Name"] for e in service["Edges"]] == [traced_function]
    assert function["ReferenceId"] in {e["ReferenceId"] for e in service["Edges"]}
    assert "db-call" in {by_ref[e["ReferenceId"]].get("Name") for e in function["Edges"]}
    clients = [s for s in services if s.get("Type") == "client"]
    assert any(service["ReferenceId"] in {e["ReferenceId"] for e in c["Edges"]} for c in clients)
    assert service["SummaryStatistics"]["TotalCount"] >= 1


def test_destination_message_carries_the_trace(
    lamina: LaminaProcess, lambda_client: Any, xray: Any, traced_function: str
) -> None:
    sqs = lamina.client("sqs")
    queue = sqs.create_queue(QueueName=f"{traced_function}-done")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=traced_function, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    root = f"1-{int(time.time()):08x}-{'12' * 12}"

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = f"Root={root};Parent=3333333333333333;Sampled=1"

    lambda_client.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        lambda_client.invoke(FunctionName=traced_function, InvocationType="Event")
    finally:
        lambda_client.meta.events.unregister("before-sign.lambda.Invoke", add_header)
    try:

        def message() -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = sqs.receive_message(
                QueueUrl=queue, WaitTimeSeconds=1, MessageSystemAttributeNames=["AWSTraceHeader"]
            ).get("Messages", [])
            return got

        (got,) = wait_for(message, timeout=30)
        header = got["Attributes"]["AWSTraceHeader"]
        assert _root(header) == root and header.endswith("Sampled=1") and "Lineage" not in header
        # its Parent is the function segment of the invocation whose outcome it is
        docs = [json.loads(s["Document"]) for s in xray.batch_get_traces(TraceIds=[root])["Traces"][0]["Segments"]]
        function = next(d for d in docs if d["origin"] == "AWS::Lambda::Function")
        assert dict(p.split("=", 1) for p in header.split(";"))["Parent"] == function["id"]
    finally:
        sqs.delete_queue(QueueUrl=queue)
