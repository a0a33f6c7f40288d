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


def lambda_segments(traced: TracedInvocation) -> SegmentRow:
    """The AWS::Lambda and AWS::Lambda::Function segments of one sampled invocation, as one row whose document is
    the JSON list of both (one row per invocation: half the writes; `traces.Trace.assemble` reads lists).

    Written as text from templates, not built as dicts and dumped: this runs for every sampled invocation, and
    every name in it (function names, ARNs, request ids, hex ids) needs no JSON escaping; only an error's cause
    goes through `json.dumps`."""
    spec, invocation = traced.spec, traced.invocation
    header = fields(invocation.trace_id)
    trace_id = header.get("Root", "")
    function_id = header.get("Parent", "") or new_id()
    service_id = new_id()
    begin = traced.started - (traced.init_ms or 0.0) / 1000.0
    started, ended, recorded = traced.started, traced.ended, traced.recorded
    name, arn, request_id = spec.function_name, invocation.invoked_arn, invocation.request_id
    common = f'"trace_id": "{trace_id}", "name": "{name}", "start_time": {begin:.6f}, "end_time": {recorded:.6f}'
    parent = f', "parent_id": "{invocation.trace_parent}"' if invocation.trace_parent else ""
    lamina_fault = ', "fault": true' if traced.error_type is not None else ""  # timeouts, exits, init failures
    service = (
        f'{{"id": "{service_id}", {common}{parent}, "origin": "AWS::Lambda", '
        f'"http": {{"response": {{"status": 200}}}}, "aws": {{"request_id": "{request_id}"}}{lamina_fault}}}'
    )
    aws = f'"aws": {{"function_arn": "{arn}"}}'
    subsegments = []
    if traced.init_ms is not None:
        subsegments.append(
            f'{{"id": "{new_id()}", "name": "Initialization", "start_time": {begin:.6f}, '
            f'"end_time": {started:.6f}, {aws}}}'
        )
    failure = ""
    if traced.function_error is not None:
        failure = f', "fault": true, "cause": {json.dumps(_cause(traced))}'
    subsegments.append(
        f'{{"id": "{new_id()}", "name": "Invocation", "start_time": {started:.6f}, "end_time": {ended:.6f}, '
        f"{aws}{failure}}}"
    )
    subsegments.append(
        f'{{"id": "{new_id()}", "name": "Overhead", "start_time": {ended:.6f}, "end_time": {recorded:.6f}, {aws}}}'
    )
    function = (
        f'{{"id": "{function_id}", {common}, "parent_id": "{service_id}", "origin": "AWS::Lambda::Function", '
        f'"aws": {{"function_arn": "{arn}", "resource_names": ["{name}"], "account_id": "{spec.account_id}", '
        f'"request_id": "{request_id}"}}{failure}, "subsegments": [{", ".join(subsegments)}]}}'
    )
    trace_start = float(int(trace_id[2:10], 16)) if TRACE_ID.fullmatch(trace_id) else started
    return SegmentRow(trace_id, function_id, trace_start, begin, recorded, f"[{service}, {function}]")


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
