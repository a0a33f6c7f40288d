"""The traces engine in-process, on a ManualClock: Lambda's segments from a traced invocation, summaries and
filters, the retention sweep, the daemon's datagrams (bad ones counted, never raised)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lamina.clock import ManualClock
from lamina.invoke.trace_header import for_invocation, use_sampling
from lamina.services.xray.daemon import XrayDaemon
from lamina.services.xray.engine import RETENTION_DAYS, TraceEngine
from lamina.services.xray.filter_expressions import FilterSyntaxError, TraceFacts, parse
from lamina.store.traces_sqlite import TraceTables
from lamina.types import Invocation, TracedInvocation, VersionSpec

T0 = 1_700_000_000.0
ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders"
SPEC = VersionSpec("orders", ARN, "$LATEST", "python3.12", "app.handler", Path("/nonexistent"))


def _engine(tmp_path: Path, clock: ManualClock) -> TraceEngine:
    return TraceEngine(TraceTables(tmp_path / "lamina.db", "NORMAL"), clock, "000000000000")


def _traced(trace_id: str, start: float, *, init_ms: float | None = None, error: bool = False) -> TracedInvocation:
    payload = json.dumps({"errorType": "KeyError", "errorMessage": "'id'"}).encode() if error else b"{}"
    invocation = Invocation("req-1", b"{}", ARN, trace_id=trace_id)
    return TracedInvocation(
        SPEC, invocation, start, start + 0.25, start + 0.26, init_ms, "Unhandled" if error else None, None, payload
    )


def _trace_id(now: float, n: int) -> str:
    return f"Root=1-{int(now):08x}-{n:024x};Parent={n:016x};Sampled=1"


def test_sampling_follows_tracing_mode_and_the_caller() -> None:
    use_sampling(None)  # --xray-sampling all: every Active invocation the caller did not decide about
    assert for_invocation("Active")[0].endswith(";Sampled=1")
    assert for_invocation("PassThrough")[0].endswith(";Sampled=0")
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    trace, parent = for_invocation("Active", caller)
    assert trace.startswith("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=") and trace.endswith("Sampled=0")
    assert parent == "53995c3f42cd8ad8" and "53995c3f42cd8ad8" not in trace
    assert for_invocation("PassThrough", caller.replace("Sampled=0", "Sampled=1"))[0].endswith("Sampled=1")
    # a header with no decision: the function's mode decides
    assert for_invocation("PassThrough", "Root=1-5759e988-bd862e3fe1be46a994272793")[0].endswith("Sampled=0")


def test_segments_summaries_and_filters(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    engine = _engine(tmp_path, clock)
    engine.traced(_traced(_trace_id(T0, 1), T0, init_ms=120.0))
    engine.traced(_traced(_trace_id(T0, 2), T0 + 1, error=True))
    summaries, looked_at = engine.summaries(T0 - 60, T0 + 60, True, None)
    assert looked_at == 2
    by_id = {s["Id"]: s for s in summaries}
    cold = by_id[f"1-{int(T0):08x}-{1:024x}"]
    assert cold["HasFault"] is False and cold["Duration"] == pytest.approx(0.38, abs=0.002)
    faulty = by_id[f"1-{int(T0):08x}-{2:024x}"]
    assert faulty["HasFault"] is True

    def matching(expression: str) -> set[str]:
        found, _ = engine.summaries(T0 - 60, T0 + 60, True, parse(expression))
        return {s["Id"] for s in found}

    assert matching("fault") == {faulty["Id"]}
    assert matching("ok") == {cold["Id"]}
    assert matching('service("orders") AND responsetime > 0.3') == {cold["Id"]}
    assert matching('NOT fault AND service("orders")') == {cold["Id"]}
    assert matching('service("other") OR (fault)') == {faulty["Id"]}
    assert matching("duration < 0.1") == set()
    # Event time range: by the segments' own start times
    assert {s["Id"] for s in engine.summaries(T0 + 0.5, T0 + 60, False, None)[0]} == {faulty["Id"]}
    (trace,) = engine.traces([faulty["Id"]])
    function = next(d for d in trace.segments if d["origin"] == "AWS::Lambda::Function")
    assert function["cause"]["exceptions"][0] == {**function["cause"]["exceptions"][0], "type": "KeyError"}
    assert [s["name"] for s in function["subsegments"]] == ["Invocation", "Overhead"]
    asyncio.run(engine.close())


@pytest.mark.parametrize(
    "expression", ["responsetime >", 'service("a"', "error AND", "nonsense", "responsetime > abc", "(fault"]
)
def test_bad_filter_expressions_are_refused(expression: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse(expression)


def test_filter_on_facts() -> None:
    facts = TraceFacts(False, True, False, False, False, 1.5, 2.0, frozenset({"api"}))
    assert parse("error && responsetime >= 1.5")(facts)
    assert not parse("!error || fault")(facts)
    assert parse('id("api")')(facts)


def test_retention_sweeps_on_the_clock(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(T0)
        engine = _engine(tmp_path, clock)
        engine.start()
        engine.traced(_traced(_trace_id(T0, 3), T0))
        await clock.until_sleeping(2)
        clock.advance(1.0)  # the writer's flush
        await clock.until_sleeping(2)
        assert engine.tables.count() == 1  # the invocation's two segments share a row
        clock.advance(RETENTION_DAYS * 86400 - 3600.0)  # not yet 30 days old at the next sweep
        await clock.until_sleeping(2)
        assert engine.tables.count() == 1
        clock.advance(7200.0)
        await clock.until_sleeping(2)
        assert engine.tables.count() == 0 and engine.stats["swept"] == 1
        await engine.close()

    asyncio.run(run())


def test_daemon_datagrams_bad_ones_counted(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    engine = _engine(tmp_path, clock)
    daemon = XrayDaemon(engine)
    good = {"id": "a" * 16, "trace_id": f"1-{int(T0):08x}-{'b' * 24}", "name": "svc", "start_time": T0, "end_time": T0}
    header = b'{"format": "json", "version": 1}\n'
    for datagram in (
        header + json.dumps(good).encode(),
        b"no header at all",
        b'{"format": "xml", "version": 1}\n{}',
        header + b"{not json",
        header + json.dumps({**good, "id": "short"}).encode(),
        header + json.dumps({**good, "end_time": None}).encode(),  # neither end_time nor in_progress
        header + b"\xff\xfe",
    ):
        daemon.datagram(datagram)
    assert daemon.stats == {"datagrams": 7, "malformed": 6}
    engine.flush()
    assert engine.tables.count() == 1
    asyncio.run(engine.close())
