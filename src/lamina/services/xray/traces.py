"""One trace from its stored documents: subsegments sent on their own folded into their parents (as
BatchGetTraces shows them), the facts a summary and a filter need, and the service graph's nodes and edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lamina.services.xray.filter_expressions import TraceFacts
from lamina.services.xray.segments import documents_of


@dataclass
class Trace:
    id: str
    segments: list[dict[str, Any]]  # top-level segments, standalone subsegments folded in

    @staticmethod
    def assemble(trace_id: str, documents: Iterable[tuple[str, str]]) -> Trace:
        parsed: list[dict[str, Any]] = []
        for _sid, text in documents:
            parsed.extend(documents_of(text))
        nodes: dict[str, dict[str, Any]] = {}
        for doc in parsed:
            for node in _walk(doc):
                if isinstance(node.get("id"), str):
                    nodes.setdefault(node["id"], node)
        top: list[dict[str, Any]] = []
        for doc in parsed:
            if doc.get("type") == "subsegment":
                parent = nodes.get(str(doc.get("parent_id")))
                if parent is not None and parent is not doc:
                    nested = {k: v for k, v in doc.items() if k not in ("type", "trace_id", "parent_id")}
                    parent.setdefault("subsegments", []).append(nested)
                    nodes[str(doc.get("id"))] = nested
                    continue
            top.append(doc)
        return Trace(trace_id, top)

    def documents(self) -> list[dict[str, Any]]:
        return self.segments

    @property
    def start(self) -> float:
        return min((float(s.get("start_time", 0)) for s in self.segments), default=0.0)

    @property
    def end(self) -> float:
        ends = [float(s["end_time"]) for s in self.segments if isinstance(s.get("end_time"), int | float)]
        return max(ends, default=self.start)

    def root(self) -> dict[str, Any] | None:
        """The entry point: the segment whose parent is not in the trace (the earliest such)."""
        ids = {s.get("id") for s in self.segments}
        roots = [s for s in self.segments if s.get("parent_id") not in ids]
        return min(roots, key=lambda s: float(s.get("start_time", 0)), default=None)

    def facts(self) -> TraceFacts:
        error = fault = throttle = partial = False
        for segment in self.segments:
            for node in _walk(segment):
                error = error or node.get("error") is True
                fault = fault or node.get("fault") is True
                throttle = throttle or node.get("throttle") is True
                partial = partial or node.get("in_progress") is True
        root = self.root()
        response = 0.0
        if root is not None and isinstance(root.get("end_time"), int | float):
            response = float(root["end_time"]) - float(root.get("start_time", 0))
        return TraceFacts(
            ok=not (error or fault or throttle),
            error=error,
            fault=fault,
            throttle=throttle,
            partial=partial,
            response_time=round(response, 3),
            duration=round(self.end - self.start, 3),
            services=frozenset(str(s.get("name")) for s in self.segments),
        )

    def summary(self, account_id: str) -> dict[str, Any]:
        facts = self.facts()
        root = self.root()
        services = []
        seen: set[tuple[str, str]] = set()
        arns: list[dict[str, str]] = []
        for segment in self.segments:
            key = (str(segment.get("name")), str(segment.get("origin", "")))
            if key not in seen:
                seen.add(key)
                services.append(_service_id(segment, account_id))
            arn = (segment.get("aws") or {}).get("function_arn")
            if isinstance(arn, str) and {"ARN": arn} not in arns:
                arns.append({"ARN": arn})
        out: dict[str, Any] = {
            "Id": self.id,
            "StartTime": self.start,
            "Duration": facts.duration,
            "ResponseTime": facts.response_time,
            "HasFault": facts.fault,
            "HasError": facts.error,
            "HasThrottle": facts.throttle,
            "IsPartial": facts.partial,
            "Annotations": {},
            "Users": [],
            "ServiceIds": services,
            "ResourceARNs": arns,
            "InstanceIds": [],
            "AvailabilityZones": [],
            "FaultRootCauses": [],
            "ErrorRootCauses": [],
            "ResponseTimeRootCauses": [],
            "Revision": 1,
        }
        if root is not None:
            out["EntryPoint"] = _service_id(root, account_id)
            response = (root.get("http") or {}).get("response") or {}
            if isinstance(response.get("status"), int):
                out["Http"] = {"HttpStatus": response["status"]}
        return out


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for sub in node.get("subsegments") or ():
        if isinstance(sub, dict):
            yield from _walk(sub)


def _service_id(segment: dict[str, Any], account_id: str) -> dict[str, Any]:
    name = str(segment.get("name"))
    out: dict[str, Any] = {"Name": name, "Names": [name], "AccountId": account_id}
    if segment.get("origin"):
        out["Type"] = segment["origin"]
    return out


@dataclass
class _Node:
    name: str
    type: str | None
    start: float
    end: float
    stats: dict[str, float] = field(default_factory=lambda: {"ok": 0, "error": 0, "fault": 0, "throttle": 0, "rt": 0})
    edges: dict[tuple[str, str | None], dict[str, float]] = field(default_factory=dict)


def _count(stats: dict[str, float], node: dict[str, Any], response_time: float) -> None:
    if node.get("fault") is True:
        stats["fault"] += 1
    elif node.get("throttle") is True:
        stats["throttle"] += 1
    elif node.get("error") is True:
        stats["error"] += 1
    else:
        stats["ok"] += 1
    stats["rt"] += response_time


def service_graph(traces: Iterable[Trace], account_id: str) -> list[dict[str, Any]]:
    """Services with edges: the client → the entry segment's service → the services its segments call (a
    segment parented by another's segment or subsegment) → downstream calls (`namespace` aws/remote
    subsegments, as the X-Ray SDK records them)."""
    nodes: dict[tuple[str, str | None], _Node] = {}
    client = ("", "client")

    def node(key: tuple[str, str | None], start: float, end: float) -> _Node:
        found = nodes.get(key)
        if found is None:
            found = nodes[key] = _Node(key[0], key[1], start, end)
        found.start, found.end = min(found.start, start), max(found.end, end)
        return found

    def edge(source: _Node, target: tuple[str, str | None], doc: dict[str, Any], rt: float) -> None:
        stats = source.edges.setdefault(target, {"ok": 0, "error": 0, "fault": 0, "throttle": 0, "rt": 0})
        _count(stats, doc, rt)

    for trace in traces:
        owner: dict[str, tuple[str, str | None]] = {}  # every segment/subsegment id → its segment's service
        for segment in trace.segments:
            key = (str(segment.get("name")), segment.get("origin"))
            for part in _walk(segment):
                if isinstance(part.get("id"), str):
                    owner[part["id"]] = key
        root = trace.root()
        for segment in trace.segments:
            start = float(segment.get("start_time", 0))
            end = float(segment.get("end_time") or start)
            key = (str(segment.get("name")), segment.get("origin"))
            me = node(key, start, end)
            _count(me.stats, segment, end - start)
            parent = owner.get(str(segment.get("parent_id")))
            if parent is not None and parent != key:
                edge(node(parent, start, end), key, segment, end - start)
            elif segment is root:
                edge(node(client, start, end), key, segment, end - start)
            for sub in _walk(segment):
                namespace = sub.get("namespace")
                if sub is segment or namespace not in ("aws", "remote"):
                    continue
                s_start = float(sub.get("start_time", start))
                s_end = float(sub.get("end_time") or s_start)
                target = (str(sub.get("name")), f"AWS::{sub.get('name')}" if namespace == "aws" else "remote")
                downstream = node(target, s_start, s_end)
                _count(downstream.stats, sub, s_end - s_start)
                edge(me, target, sub, s_end - s_start)
    ids = {key: i for i, key in enumerate(nodes)}
    out = []
    for key, n in nodes.items():
        entry: dict[str, Any] = {"ReferenceId": ids[key], "State": "active" if key != client else "unknown"}
        if key == client:
            entry["Type"] = "client"
        else:
            entry.update({"Name": n.name, "Names": [n.name], "Root": False, "AccountId": account_id})
            if n.type:
                entry["Type"] = n.type
            entry["SummaryStatistics"] = _statistics(n.stats)
            entry["DurationHistogram"] = []
            entry["ResponseTimeHistogram"] = []
        entry["StartTime"], entry["EndTime"] = n.start, n.end
        entry["Edges"] = [
            {
                "ReferenceId": ids[target],
                "StartTime": n.start,
                "EndTime": n.end,
                "SummaryStatistics": _statistics(stats),
                "ResponseTimeHistogram": [],
                "Aliases": [],
            }
            for target, stats in n.edges.items()
        ]
        out.append(entry)
    return out


def _statistics(stats: dict[str, float]) -> dict[str, Any]:
    errors = int(stats["error"] + stats["throttle"])
    total = int(stats["ok"]) + errors + int(stats["fault"])
    return {
        "OkCount": int(stats["ok"]),
        "ErrorStatistics": {
            "ThrottleCount": int(stats["throttle"]),
            "OtherCount": int(stats["error"]),
            "TotalCount": errors,
        },
        "FaultStatistics": {"OtherCount": int(stats["fault"]), "TotalCount": int(stats["fault"])},
        "TotalCount": total,
        "TotalResponseTime": round(stats["rt"], 6),
    }
