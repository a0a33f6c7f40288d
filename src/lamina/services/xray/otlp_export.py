"""`lamina serve --otlp-endpoint URL`: the segments Lamina stores, also exported as OpenTelemetry spans over
OTLP/HTTP (protobuf) with the OpenTelemetry SDK's exporter.

A segment or subsegment becomes one span: the trace id is the X-Ray id without its dashes (`1-5759e988-bd86...`
→ 32 hex digits, the first 8 the epoch, as the OpenTelemetry X-Ray id generator makes them), the span id the
segment id, the parent the segment's `parent_id` (or the enclosing segment for a nested subsegment). Times are
X-Ray's epoch seconds in nanoseconds; `origin`, `aws.*` and the error flags go to attributes, a fault to an
ERROR status. The SDK's batch processor sends them from its own thread, so the writer thread only queues.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from lamina import __version__
from lamina.services.xray.segments import documents_of
from lamina.store.traces_sqlite import SegmentRow

_SCOPE = InstrumentationScope("lamina.xray", __version__)


def _spans(doc: dict[str, Any], trace_id: int, parent: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
    yield doc, parent
    for sub in doc.get("subsegments") or ():
        if isinstance(sub, dict):
            yield from _spans(sub, trace_id, str(doc.get("id")))


class OtlpExport:
    def __init__(self, endpoint: str) -> None:
        self._processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
        self._resources: dict[str, Resource] = {}

    def __call__(self, rows: Sequence[SegmentRow]) -> None:
        for row in rows:
            try:
                trace_id = int(row.trace_id.replace("-", "")[1:], 16)
            except ValueError:
                continue
            for doc in documents_of(row.document):  # Lambda's two segments of an invocation share a row
                for node, parent in _spans(doc, trace_id, doc.get("parent_id")):
                    span = self._span(node, trace_id, parent, str(doc.get("name")))
                    if span is not None:
                        self._processor.on_end(span)

    def _resource(self, service: str) -> Resource:
        found = self._resources.get(service)
        if found is None:
            found = self._resources[service] = Resource.create({"service.name": service})
        return found

    def _span(self, node: dict[str, Any], trace_id: int, parent: str | None, service: str) -> ReadableSpan | None:
        try:
            span_id = int(str(node["id"]), 16)
            start = int(float(node["start_time"]) * 1e9)
            end = int(float(node.get("end_time") or node["start_time"]) * 1e9)
        except (KeyError, ValueError, TypeError):
            return None
        context = SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
        parent_context = None
        if parent:
            try:
                parent_context = SpanContext(trace_id, int(parent, 16), is_remote=True)
            except ValueError:
                parent_context = None
        attributes: dict[str, Any] = {}
        if node.get("origin"):
            attributes["aws.xray.origin"] = str(node["origin"])
        for key, value in (node.get("aws") or {}).items():
            if isinstance(value, str | int | float | bool):
                attributes[f"aws.{key}"] = value
        for flag in ("error", "fault", "throttle"):
            if node.get(flag) is True:
                attributes[f"aws.xray.{flag}"] = True
        status = Status(StatusCode.ERROR) if node.get("fault") is True else Status(StatusCode.UNSET)
        return ReadableSpan(
            name=str(node.get("name")),
            context=context,
            parent=parent_context,
            resource=self._resource(service),
            attributes=attributes,
            kind=SpanKind.SERVER if parent_context is None or "origin" in node else SpanKind.INTERNAL,
            status=status,
            start_time=start,
            end_time=end,
            instrumentation_scope=_SCOPE,
        )

    def shutdown(self) -> None:
        self._processor.shutdown()  # type: ignore[no-untyped-call]
