"""`lamina serve --otlp-endpoint URL`: the spans of a traced invocation reach an OTLP/HTTP receiver (a tiny one
here, decoding the protobuf request with opentelemetry-proto)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess
from tests.xray.conftest import wait_for


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            received.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()


def test_spans_are_exported_over_otlp(
    fresh_lamina: Callable[..., LaminaProcess], receiver: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    url, received = receiver
    server = fresh_lamina("--otlp-endpoint", url)
    client = server.client()
    client.create_function(
        FunctionName="otlp", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip()}, TracingConfig={"Mode": "Active"},
    )  # fmt: skip
    client.invoke(FunctionName="otlp", Payload=b"{}")
    (summary,) = wait_for(lambda: server.client("xray").get_trace_summaries(StartTime=0, EndTime=4e9)["TraceSummaries"])
    trace_hex = summary["Id"].replace("-", "")[1:]

    def spans() -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for request in received:
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"
                )
                for scope in resource_spans.scope_spans:
                    out.extend((service, span) for span in scope.spans)
        return out if len(out) >= 5 else []

    got = wait_for(spans, timeout=30)
    assert {service for service, _ in got} == {"otlp"}
    by_name: dict[str, list[Any]] = {}
    for _service, span in got:
        assert span.trace_id.hex() == trace_hex
        by_name.setdefault(span.name, []).append(span)
    assert sorted(by_name) == ["Initialization", "Invocation", "Overhead", "otlp"]
    service_span, function_span = sorted(by_name["otlp"], key=lambda s: len(s.parent_span_id))
    assert function_span.parent_span_id == service_span.span_id
    origins = {a.value.string_value for s in by_name["otlp"] for a in s.attributes if a.key == "aws.xray.origin"}
    assert origins == {"AWS::Lambda", "AWS::Lambda::Function"}
    (invocation,) = by_name["Invocation"]
    assert invocation.parent_span_id == function_span.span_id
    assert invocation.start_time_unix_nano <= invocation.end_time_unix_nano
