"""The xray API (rest-json): PutTraceSegments, GetTraceSummaries, BatchGetTraces, GetServiceGraph and
GetTraceGraph over the traces engine, with X-Ray's InvalidRequestException for bad input."""

from __future__ import annotations

import json
from typing import Any

from lamina.errors import ServiceFault
from lamina.services.xray.engine import TraceEngine
from lamina.services.xray.filter_expressions import FilterSyntaxError, parse
from lamina.services.xray.segments import TRACE_ID
from lamina.types import CallContext

MAX_BATCH_TRACES = 5  # BatchGetTraces takes up to five trace ids per call


def invalid(message: str) -> ServiceFault:
    return ServiceFault("InvalidRequestException", message, 400)


class XrayProvider:
    def __init__(self, engine: TraceEngine) -> None:
        self._engine = engine

    def put_trace_segments(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"UnprocessedTraceSegments": self._engine.put(params["TraceSegmentDocuments"])}

    def get_trace_summaries(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        start, end = float(params["StartTime"]), float(params["EndTime"])
        if start > end:
            raise invalid("Start time must be before end time")
        kind = params.get("TimeRangeType") or "TraceId"
        if kind == "Service":
            raise invalid("TimeRangeType Service is not supported by Lamina; use TraceId or Event")
        predicate = None
        expression = (params.get("FilterExpression") or "").strip()
        if expression:
            try:
                predicate = parse(expression)
            except FilterSyntaxError as bad:
                raise invalid(str(bad)) from None
        summaries, looked_at = self._engine.summaries(start, end, kind == "TraceId", predicate)
        return {
            "TraceSummaries": summaries,
            "ApproximateTime": self._engine.clock.time(),
            "TracesProcessedCount": looked_at,
        }

    def batch_get_traces(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = self._trace_ids(params)
        found = {trace.id: trace for trace in self._engine.traces(ids)}
        traces = []
        for tid in ids:
            trace = found.get(tid)
            if trace is None:
                continue
            traces.append(
                {
                    "Id": tid,
                    "Duration": round(trace.end - trace.start, 3),
                    "LimitExceeded": False,
                    "Segments": [
                        {"Id": str(segment.get("id")), "Document": json.dumps(segment)} for segment in trace.documents()
                    ],
                }
            )
        return {"Traces": traces, "UnprocessedTraceIds": [tid for tid in ids if tid not in found]}

    def get_service_graph(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        start, end = float(params["StartTime"]), float(params["EndTime"])
        if start > end:
            raise invalid("Start time must be before end time")
        return {
            "StartTime": start,
            "EndTime": end,
            "Services": self._engine.graph(start, end),
            "ContainsOldGroupVersions": False,
        }

    def get_trace_graph(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Services": self._engine.trace_graph(self._trace_ids(params))}

    @staticmethod
    def _trace_ids(params: dict[str, Any]) -> list[str]:
        ids: list[str] = list(dict.fromkeys(params["TraceIds"]))
        if len(ids) > MAX_BATCH_TRACES:
            raise invalid(f"Too many trace ids: at most {MAX_BATCH_TRACES} per request")
        for tid in ids:
            if TRACE_ID.fullmatch(tid) is None:
                raise invalid(f"Invalid TraceId: {tid}")
        return ids
