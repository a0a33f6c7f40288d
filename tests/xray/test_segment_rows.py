"""Lambda's two segments of a sampled invocation, stored as one compact row and expanded when read."""

from __future__ import annotations

import json
from pathlib import Path

from lamina.services.xray.segments import LAMBDA_ROW, _cause, documents_of, lambda_segments
from lamina.types import Invocation, TracedInvocation, VersionSpec

ARN = "arn:aws:lambda:us-east-1:000000000000:function:obs"
TRACE = "1-6b169b90-74e2ddfd1c2192e9cba28d6c"


def _traced(parent: str = "53995c3f42cd8ad8", error: bool = False) -> TracedInvocation:
    spec = VersionSpec("obs", ARN, "$LATEST", "python3.12", "app.handler", Path("/code"), tracing_mode="Active")
    header = f"Root={TRACE};Parent=aaaaaaaaaaaaaaaa;Sampled=1"
    invocation = Invocation("req-1", b"{}", ARN, trace_id=header, trace_parent=parent)
    payload = b'{"errorType": "ValueError", "errorMessage": "no"}' if error else b"null"
    return TracedInvocation(
        spec, invocation, 1733589000.123456, 1733589000.125, 1733589000.1257, 12.5, "Unhandled" if error else None,
        None, payload,
    )  # fmt: skip


def test_row_expands_to_lambdas_two_segments_with_exact_times() -> None:
    row = lambda_segments(_traced())
    assert (row.trace_id, row.id) == (TRACE, "aaaaaaaaaaaaaaaa")
    service, function = documents_of(row.document)
    assert (service["origin"], service["parent_id"], service["trace_id"]) == ("AWS::Lambda", "53995c3f42cd8ad8", TRACE)
    assert (service["start_time"], service["end_time"]) == (1733589000.110956, 1733589000.1257)
    assert function["origin"] == "AWS::Lambda::Function" and function["parent_id"] == service["id"]
    names = [(s["name"], s["start_time"], s["end_time"]) for s in function["subsegments"]]
    assert names == [
        ("Initialization", 1733589000.110956, 1733589000.123456),
        ("Invocation", 1733589000.123456, 1733589000.125),
        ("Overhead", 1733589000.125, 1733589000.1257),
    ]
    assert "fault" not in function and "fault" not in service


def test_error_cause_and_a_separator_in_the_callers_header() -> None:
    row = lambda_segments(_traced(parent="53995c3f\x1f42cd8ad8", error=True))
    service, function = documents_of(row.document)
    assert service["parent_id"] == "53995c3f42cd8ad8"
    assert function["fault"] is True
    assert function["cause"]["exceptions"][0]["type"] == "ValueError"
    assert function["cause"]["exceptions"][0]["message"] == "no"


def test_rows_stored_by_earlier_versions_still_read() -> None:
    # A JSON list of the same facts, as rows were stored before the text row.
    traced = _traced(error=True)
    old = json.dumps([
        LAMBDA_ROW, TRACE, "1111111111111111", "aaaaaaaaaaaaaaaa", "2222222222222222", "3333333333333333",
        "4444444444444444", 1733589000.110956, 1733589000.123456, 1733589000.125, 1733589000.1257, "obs", ARN,
        "req-1", "53995c3f42cd8ad8", "000000000000", False, _cause(traced),
    ])  # fmt: skip
    service, function = documents_of(old)
    assert service["id"] == "1111111111111111" and service["start_time"] == 1733589000.110956
    assert [s["id"] for s in function["subsegments"]] == ["2222222222222222", "3333333333333333", "4444444444444444"]
    assert function["cause"]["exceptions"][0]["type"] == "ValueError"
    assert documents_of("lamina:lambda-invocation:2\x1fshort") == []
