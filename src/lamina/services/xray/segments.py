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
import random
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


LAMBDA_ROW = "lamina:lambda-invocation:1"  # the first item of a JSON list row (what earlier versions stored)
LAMBDA_TEXT_ROW = "lamina:lambda-invocation:2"  # the first field of a text row (see `lambda_segments`)
_SEPARATOR = "\x1f"  # the unit separator: not in function names, ARNs or Lamina's ids; JSON text escapes it
_FIELDS = 18


def lambda_segments(traced: TracedInvocation) -> SegmentRow:
    """The AWS::Lambda and AWS::Lambda::Function segments of one sampled invocation, stored as one compact row:
    the facts they are made of joined by a separator (times in integer microseconds, the cause as JSON, last),
    expanded into the two documents when read (`documents_of`). This runs in the writer for every sampled
    invocation: a join of short strings costs ~1 us, where a JSON list with floats cost ~7 us and two full
    documents several times more."""
    spec, invocation = traced.spec, traced.invocation
    parts = invocation.trace_id.split(";", 2)
    if len(parts) > 1 and parts[0].startswith("Root=") and parts[1].startswith("Parent="):  # as Lamina composes it
        trace_id, function_id = parts[0][5:], parts[1][7:]
    else:
        header = fields(invocation.trace_id)
        trace_id, function_id = header.get("Root", ""), header.get("Parent", "") or new_id()
    begin = traced.started - (traced.init_ms or 0.0) / 1000.0
    ids = f"{random.getrandbits(256):064x}"  # the service segment's and the three subsegments' ids
    cause = json.dumps(_cause(traced)) if traced.function_error is not None else ""
    texts = [
        LAMBDA_TEXT_ROW, trace_id, ids[:16], function_id, ids[16:32] if traced.init_ms is not None else "",
        ids[32:48], ids[48:], str(round(begin * 1e6)), str(round(traced.started * 1e6)), str(round(traced.ended * 1e6)),
        str(round(traced.recorded * 1e6)), spec.function_name, invocation.invoked_arn, invocation.request_id,
        invocation.trace_parent or "", spec.account_id, "1" if traced.error_type is not None else "", cause,
    ]  # fmt: skip
    document = _SEPARATOR.join(texts)
    if document.count(_SEPARATOR) != _FIELDS - 1:  # a separator inside a caller's value (a trace header's)
        document = _SEPARATOR.join([texts[0], *(t.replace(_SEPARATOR, "") for t in texts[1:17]), cause])
    trace_start = float(int(trace_id[2:10], 16)) if TRACE_ID.fullmatch(trace_id) else traced.started
    return SegmentRow(trace_id, function_id, trace_start, begin, traced.recorded, document)


def documents_of(text: str) -> list[dict[str, Any]]:
    """The segment documents a stored row holds: the one sent, or Lambda's two for a stored invocation."""
    if text.startswith(LAMBDA_TEXT_ROW):
        texts = text.split(_SEPARATOR, _FIELDS - 1)
        if len(texts) != _FIELDS:
            return []
        try:
            times = [int(t) / 1e6 for t in texts[7:11]]
            cause = json.loads(texts[17]) if texts[17] else None
        except ValueError:
            return []
        facts = [*texts[:7], *times, *texts[11:14], texts[14] or None, texts[15], bool(texts[16]), cause]
        return _expand(facts)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if isinstance(doc, dict):
        return [doc]
    if isinstance(doc, list) and len(doc) == _FIELDS and doc[0] == LAMBDA_ROW:
        return _expand(doc)
    return []


def _expand(facts: list[Any]) -> list[dict[str, Any]]:
    (
        _, trace_id, service_id, function_id, init_id, invocation_id, overhead_id, begin, started, ended, recorded,
        name, arn, request_id, trace_parent, account_id, lamina_fault, cause,
    ) = facts  # fmt: skip
    service: dict[str, Any] = {
        "id": service_id,
        "trace_id": trace_id,
        "name": name,
        "start_time": begin,
        "end_time": recorded,
        "origin": "AWS::Lambda",
        "http": {"response": {"status": 200}},
        "aws": {"request_id": request_id},
    }
    if trace_parent:
        service["parent_id"] = trace_parent
    if lamina_fault:  # Lambda's own failures: timeouts, runtime exits, init failures
        service["fault"] = True
    aws = {"function_arn": arn}
    subsegments = []
    if init_id:
        subsegments.append(
            {"id": init_id, "name": "Initialization", "start_time": begin, "end_time": started, "aws": aws}
        )
    invocation: dict[str, Any] = {"id": invocation_id, "name": "Invocation", "start_time": started, "end_time": ended}
    invocation["aws"] = aws
    if cause is not None:
        invocation["fault"] = True
        invocation["cause"] = cause
    subsegments.append(invocation)
    subsegments.append({"id": overhead_id, "name": "Overhead", "start_time": ended, "end_time": recorded, "aws": aws})
    function: dict[str, Any] = {
        "id": function_id,
        "trace_id": trace_id,
        "parent_id": service_id,
        "name": name,
        "start_time": begin,
        "end_time": recorded,
        "origin": "AWS::Lambda::Function",
        "aws": {"function_arn": arn, "resource_names": [name], "account_id": account_id, "request_id": request_id},
    }
    if cause is not None:
        function["fault"] = True
        function["cause"] = cause
    function["subsegments"] = subsegments
    return [service, function]


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
