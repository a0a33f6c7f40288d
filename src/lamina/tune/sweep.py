"""The measurement: for each memory size, a version with that memory, N invocations of it, their REPORT figures.

`$LATEST` gets the user's memory size back afterwards (even when a step fails), and the versions the sweep
published are deleted; a version that already existed (the same code and configuration published before) is used
but kept."""

from __future__ import annotations

import base64
import functools
import json
import re
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lamina.tune.prices import invocation_cost

_REPORT = re.compile(r"Duration: ([\d.]+) ms\s+Billed Duration: (\d+) ms")
STRATEGIES = ("cost", "speed", "balanced")


@dataclass
class Result:
    memory: int
    durations_ms: list[float]
    billed_ms: list[float]
    errors: int
    cost_usd: float  # mean cost of one invocation

    def p(self, q: float) -> float:
        ordered = sorted(self.durations_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    def to_json(self) -> dict[str, Any]:
        return {
            "memory": self.memory,
            "p50Ms": round(self.p(0.50), 3),
            "p99Ms": round(self.p(0.99), 3),
            "averageMs": round(statistics.fmean(self.durations_ms), 3) if self.durations_ms else 0.0,
            "costUsd": self.cost_usd,
            "errors": self.errors,
        }


def report_of(log_result: str) -> tuple[float, float] | None:
    """(duration, billed duration) in ms from an invocation's base64 log tail."""
    found = _REPORT.search(base64.b64decode(log_result).decode(errors="replace"))
    return (float(found.group(1)), float(found.group(2))) if found else None


def best(results: list[Result], strategy: str) -> Result:
    """The pick: cheapest, fastest (p50), or the best of both halves weighed equally, each scaled by its worst."""
    usable = [r for r in results if r.durations_ms and not r.errors] or results
    if strategy == "cost":
        return min(usable, key=lambda r: (r.cost_usd, r.p(0.5)))
    if strategy == "speed":
        return min(usable, key=lambda r: (r.p(0.5), r.cost_usd))
    top_cost = max(r.cost_usd for r in usable) or 1.0
    top_time = max(r.p(0.5) for r in usable) or 1.0
    return min(usable, key=lambda r: 0.5 * r.cost_usd / top_cost + 0.5 * r.p(0.5) / top_time)


def _invoke(client: Any, function: str, version: str, payload: bytes, _: int = 0) -> tuple[float, float] | None:
    answer = client.invoke(FunctionName=function, Qualifier=version, Payload=payload, LogType="Tail")
    if answer.get("FunctionError"):
        return None
    return report_of(answer.get("LogResult", ""))


def sweep(
    client: Any,
    function: str,
    memories: list[int],
    invocations: int,
    payload: bytes,
    parallel: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[Result]:
    config = client.get_function_configuration(FunctionName=function)
    original = config["MemorySize"]
    architecture = (config.get("Architectures") or ["x86_64"])[0]
    storage = (config.get("EphemeralStorage") or {}).get("Size", 512)
    existing = _versions(client, function)
    published: list[str] = []
    results = []
    waiter = client.get_waiter("function_updated_v2")
    try:
        for memory in memories:
            client.update_function_configuration(FunctionName=function, MemorySize=memory)
            waiter.wait(FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
            version = client.publish_version(FunctionName=function, Description=f"lamina tune {memory} MB")["Version"]
            if version not in existing:
                published.append(version)
            progress(f"{memory} MB: version {version}, {invocations} invocations")
            with ThreadPoolExecutor(max_workers=min(invocations, 16) if parallel else 1) as pool:
                once = functools.partial(_invoke, client, function, version, payload)
                answers = list(pool.map(once, range(invocations)))
            reports = [a for a in answers if a is not None]
            cost = (
                statistics.fmean(invocation_cost(b, memory, architecture, storage) for _, b in reports)
                if reports
                else 0.0
            )
            result = Result(memory, [d for d, _ in reports], [b for _, b in reports], len(answers) - len(reports), cost)
            results.append(result)
            progress(f"{memory} MB: p50 {result.p(0.5):.2f} ms, {cost:.10f} USD an invocation, {result.errors} errors")
    finally:
        client.update_function_configuration(FunctionName=function, MemorySize=original)
        waiter.wait(FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        for version in published:
            client.delete_function(FunctionName=function, Qualifier=version)
    return results


def _versions(client: Any, function: str) -> set[str]:
    found: set[str] = set()
    for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        found.update(v["Version"] for v in page["Versions"])
    return found


def output(results: list[Result], chosen: Result, strategy: str) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "results": [r.to_json() for r in results],
        "best": chosen.to_json(),
    }


def payload_bytes(text: str | None) -> bytes:
    """`--payload`: JSON text, or `@file` / a path to a file holding it."""
    if not text:
        return b"{}"
    if text.startswith("@"):
        with open(text[1:], "rb") as handle:
            data = handle.read()
    else:
        data = text.encode()
    json.loads(data)  # refuse what the Lambda API would refuse, before changing anything
    return data
