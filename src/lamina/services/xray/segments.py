"""Segment documents: checking the ones sent to Lamina, and making the ones Lambda records itself.

For each sampled invocation Lambda emits two segments (lambda services-xray, "Understanding traces"): the
service's (`origin: AWS::Lambda`, named for the function, parented by the caller's segment when the trace header
named one) and the function's (`origin: AWS::Lambda::Function`, parented by the first), whose subsegments are
`Initialization` (a cold start's init), `Invocation` (the handler) and `Overhead` (what the runtime and Lambda do
after the response). The function segment's id is the `Parent` of the trace header the function gets, so the
X-Ray SDK's subsegments (sent to the daemon) land under it.

A function error marks the function segment `fault` with a `cause` naming the exception; AWS::Lambda's segment
has `http.response.status` 200 for a handled invocation, as Invoke answers 200 even when the function failed, and
`fault` only for Lambda's own failures (timeouts, runtime exits).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lamina.invoke.trace_header import fields, new_id
from lamina.store.traces_sqlite import SegmentRow
from lamina.types import TracedInvocation

TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
SEGMENT_ID = re.compile(r"[0-9a-f]{16}")
MAX_DOCUMENT_BYTES = 64 * 1024  # the daemon's UDP datagram bound, and what AWS takes per segment document


class BadSegment(ValueError):
    """A document X-Ray would refuse; `code` goes to UnprocessedTraceSegments' ErrorCode."""

    def __init__(self, code: str, message: str, segment_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.segment_id = segment_id


@dataclass(frozen=True)
class Checked:
    row: SegmentRow
    document: dict[str, Any]


def check(text: str) -> Checked:
    """One segment document, checked as X-Ray checks it: a JSON object with `name`, `id` (16 hex), `trace_id`
    (`1-<8 hex>-<24 hex>`), a numeric `start_time`, and `end_time` unless `in_progress`. A subsegment sent on its
    own (`type: subsegment`) also needs `parent_id`."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise BadSegment("SegmentTooLarge", f"Segment document exceeds {MAX_DOCUMENT_BYTES} bytes")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise BadSegment("InvalidSegment", "Segment document is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadSegment("InvalidSegment", "Segment document must be a JSON object")
    sid = doc.get("id")
    if not isinstance(sid, str) or SEGMENT_ID.fullmatch(sid) is None:
        raise BadSegment("InvalidId", "Segment id must be 16 hexadecimal digits", sid if isinstance(sid, str) else None)
    trace_id = doc.get("trace_id")
    if not isinstance(trace_id, str) or TRACE_ID.fullmatch(trace_id) is None:
        raise BadSegment("InvalidTraceId", f"Invalid trace id: {trace_id!r}", sid)
    name = doc.get("name")
    if not isinstance(name, str) or not name or len(name) > 200:
        raise BadSegment("InvalidSegment", "Segment name must be a string of 1 to 200 characters", sid)
    start = doc.get("start_time")
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise BadSegment("InvalidSegment", "start_time must be a number", sid)
    end = doc.get("end_time")
    if end is None:
        if doc.get("in_progress") is not True:
            raise BadSegment("InvalidSegment", "end_time is required unless in_progress is true", sid)
    elif isinstance(end, bool) or not isinstance(end, int | float):
        raise BadSegment("InvalidSegment", "end_time must be a number", sid)
    if doc.get("type") == "subsegment" and not isinstance(doc.get("parent_id"), str):
        raise BadSegment("InvalidSegment", "A subsegment sent on its own needs parent_id", sid)
    trace_start = float(int(trace_id[2:10], 16))
    row = SegmentRow(trace_id, sid, trace_start, float(start), None if end is None else float(end), text)
    return Checked(row, doc)


def lambda_segments(traced: TracedInvocation) -> list[SegmentRow]:
    """The AWS::Lambda and AWS::Lambda::Function segments of one sampled invocation."""
    spec, invocation = traced.spec, traced.invocation
    header = fields(invocation.trace_id)
    trace_id = header.get("Root", "")
    function_id = header.get("Parent", "") or new_id()
    service_id = new_id()
    init_s = (traced.init_ms or 0.0) / 1000.0
    begin = traced.started - init_s
    request_id = invocation.request_id
    lamina_fault = traced.error_type is not None  # timeouts, runtime exits, init failures
    service: dict[str, Any] = {
        "id": service_id,
        "trace_id": trace_id,
        "name": spec.function_name,
        "start_time": round(begin, 6),
        "end_time": round(traced.recorded, 6),
        "origin": "AWS::Lambda",
        "http": {"response": {"status": 200}},
        "aws": {"request_id": request_id},
    }
    if invocation.trace_parent:
        service["parent_id"] = invocation.trace_parent
    if lamina_fault:
        service["fault"] = True
    subsegments: list[dict[str, Any]] = []
    arn = invocation.invoked_arn
    if traced.init_ms is not None:
        subsegments.append(_sub("Initialization", begin, traced.started, {"function_arn": arn}))
    invocation_sub = _sub("Invocation", traced.started, traced.ended, {"function_arn": arn})
    if traced.function_error is not None:
        invocation_sub["fault"] = True
        invocation_sub["cause"] = _cause(traced)
    subsegments.append(invocation_sub)
    subsegments.append(_sub("Overhead", traced.ended, traced.recorded, {"function_arn": arn}))
    function: dict[str, Any] = {
        "id": function_id,
        "trace_id": trace_id,
        "parent_id": service_id,
        "name": spec.function_name,
        "start_time": round(begin, 6),
        "end_time": round(traced.recorded, 6),
        "origin": "AWS::Lambda::Function",
        "aws": {
            "function_arn": arn,
            "resource_names": [spec.function_name],
            "account_id": spec.account_id,
            "request_id": request_id,
        },
        "subsegments": subsegments,
    }
    if traced.function_error is not None:
        function["fault"] = True
        function["cause"] = invocation_sub["cause"]
    trace_start = float(int(trace_id[2:10], 16)) if TRACE_ID.fullmatch(trace_id) else traced.started
    return [
        SegmentRow(trace_id, service_id, trace_start, begin, traced.recorded, json.dumps(service)),
        SegmentRow(trace_id, function_id, trace_start, begin, traced.recorded, json.dumps(function)),
    ]


def _sub(name: str, start: float, end: float, aws: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "name": name, "start_time": round(start, 6), "end_time": round(end, 6), "aws": aws}


def _cause(traced: TracedInvocation) -> dict[str, Any]:
    error_type, message = traced.error_type or "Unhandled", ""
    try:
        doc = json.loads(traced.payload)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, dict):
        error_type = str(doc.get("errorType") or error_type)
        message = str(doc.get("errorMessage") or "")
    return {
        "working_directory": "/var/task",
        "paths": [],
        "exceptions": [{"id": new_id(), "message": message, "type": error_type}],
    }
