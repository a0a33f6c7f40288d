"""The xray API through boto3 and the aws CLI: PutTraceSegments (bad documents come back unprocessed, the rest are
committed before the answer: they survive kill -9), GetTraceSummaries, BatchGetTraces, GetTraceGraph and AWS's
InvalidRequestException."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import json_runner
from tests.server import LaminaProcess


def _segment(trace_id: str, **fields: Any) -> dict[str, Any]:
    now = time.time()
    return {"id": secrets.token_hex(8), "trace_id": trace_id, "name": "checkout", "start_time": now - 0.5,
            "end_time": now, **fields}  # fmt: skip


def _new_trace() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def test_put_trace_segments_and_read_them_back(lamina: LaminaProcess, xray: Any, tmp_path: Path) -> None:
    trace = _new_trace()
    root = _segment(trace, http={"request": {"method": "GET"}, "response": {"status": 502}}, fault=True)
    child = _segment(trace, name="inventory", parent_id=root["id"], origin="AWS::EC2::Instance", error=True)
    sub = {"type": "subsegment", **_segment(trace, name="SELECT", parent_id=child["id"], namespace="remote")}
    out = xray.put_trace_segments(
        TraceSegmentDocuments=[
            json.dumps(root),
            json.dumps(child),
            json.dumps(sub),
            "{not json",
            json.dumps({**root, "id": "xyz"}),
            json.dumps({**root, "id": "0123456789abcdef", "trace_id": "1-nope"}),
            json.dumps({**root, "id": "0123456789abcdee", "end_time": None}),
        ]
    )
    unprocessed = out["UnprocessedTraceSegments"]
    assert [u.get("Id") for u in unprocessed] == [None, "xyz", "0123456789abcdef", "0123456789abcdee"]
    assert all(u["ErrorCode"] and u["Message"] for u in unprocessed)

    (got,) = xray.batch_get_traces(TraceIds=[trace])["Traces"]
    docs = {d["id"]: d for d in (json.loads(s["Document"]) for s in got["Segments"])}
    assert set(docs) == {root["id"], child["id"]}  # the subsegment is folded into its parent
    assert docs[child["id"]]["subsegments"][0]["name"] == "SELECT"
    assert got["Duration"] == pytest.approx(0.5, abs=0.01)

    now = time.time()
    summaries = xray.get_trace_summaries(StartTime=now - 60, EndTime=now + 60, FilterExpression='service("checkout")')
    (summary,) = [s for s in summaries["TraceSummaries"] if s["Id"] == trace]
    assert summary["HasFault"] is True and summary["HasError"] is True
    assert summary["EntryPoint"]["Name"] == "checkout" and summary["Http"]["HttpStatus"] == 502
    assert {s["Name"] for s in summary["ServiceIds"]} == {"checkout", "inventory"}
    assert summaries["TracesProcessedCount"] >= 1

    graph = xray.get_trace_graph(TraceIds=[trace])["Services"]
    names = {s["ReferenceId"]: s.get("Name") for s in graph}
    checkout = next(s for s in graph if s.get("Name") == "checkout")
    inventory = next(s for s in graph if s.get("Name") == "inventory")
    assert [names[e["ReferenceId"]] for e in checkout["Edges"]] == ["inventory"]
    assert [names[e["ReferenceId"]] for e in inventory["Edges"]] == ["SELECT"]
    assert checkout["SummaryStatistics"]["FaultStatistics"]["TotalCount"] == 1
    assert inventory["SummaryStatistics"]["ErrorStatistics"]["OtherCount"] == 1

    # the aws CLI reads the same summaries
    aws = json_runner(tmp_path, lamina.url, "xray")
    listed = aws(
        "get-trace-summaries", "--start-time", str(int(now - 60)), "--end-time", str(int(now + 60)),
        "--filter-expression", "fault",
    )  # fmt: skip
    assert trace in {s["Id"] for s in listed["TraceSummaries"]}
    traces = aws("batch-get-traces", "--trace-ids", trace)
    assert traces["Traces"][0]["Id"] == trace


def test_bad_requests_get_invalid_request_exception(xray: Any) -> None:
    now = time.time()
    with pytest.raises(ClientError) as bad:
        xray.get_trace_summaries(StartTime=now, EndTime=now + 60, FilterExpression="responsetime >")
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as bad:
        xray.get_trace_summaries(StartTime=now + 60, EndTime=now)
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as bad:
        xray.batch_get_traces(TraceIds=[_new_trace() for _ in range(6)])
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as bad:
        xray.batch_get_traces(TraceIds=["not-a-trace"])
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"
    unknown = _new_trace()
    assert xray.batch_get_traces(TraceIds=[unknown]) | {"ResponseMetadata": None} == {
        "Traces": [],
        "UnprocessedTraceIds": [unknown],
        "ResponseMetadata": None,
    }


def test_put_segments_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess], tmp_path: Path) -> None:
    server = fresh_lamina(data_dir=tmp_path / "data")
    trace = _new_trace()
    xray = server.client("xray")
    assert (
        xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(_segment(trace))])["UnprocessedTraceSegments"] == []
    )
    server.kill()
    again = fresh_lamina(data_dir=tmp_path / "data")
    (got,) = again.client("xray").batch_get_traces(TraceIds=[trace])["Traces"]
    assert json.loads(got["Segments"][0]["Document"])["trace_id"] == trace
