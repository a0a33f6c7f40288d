"""Observability: what logs, metrics and tracing together cost the warm invoke path.

* warm invoke throughput and p50/p99 latency of one Python handler (TracingConfig Active) on four servers in the
  same run, measured in alternating rounds so load from elsewhere falls on all alike:
  - "off": `--lambda-metrics off --tracing off`, the function prints nothing. Lamina's platform lines
    (START/END/REPORT) cannot be switched off: they are written here too;
  - "on": `lamina serve` as shipped (AWS/Lambda metrics, X-Ray segments, Lambda's two per sampled invocation,
    sampled by X-Ray's default rule: one a second plus 5%), the same quiet function;
  - "on, sample all": the same with `--xray-sampling all` (every invocation traced, as before the default rule);
  - "on+log line": the same server, the function printing one line per invocation (captured from its stdout into
    CloudWatch Logs): what a function's own logging adds.
* the invoke path's tracing hook alone (TraceEngine.traced) and the writer's cost per traced invocation (building
  the row and committing it), and the trace header's cost with and without the sampling rule, in-process: the
  figures that stay meaningful when the machine is too busy for the throughput comparison to be within noise.

  .venv/bin/python bench/observability_bench.py [--rounds 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from invoke_bench import LeanClient, _pct, _request
from tests.server import ROLE, LaminaProcess

from lamina.clock import SystemClock
from lamina.invoke import trace_header
from lamina.invoke.sampling import DefaultSampling
from lamina.invoke.trace_header import for_invocation
from lamina.services.xray.engine import TraceEngine
from lamina.store.traces_sqlite import TraceTables
from lamina.types import Invocation, TracedInvocation, VersionSpec

HANDLER = """
def handler(event, context):
    if not event.get("quiet"):
        print("order placed", event.get("n"))
    for _ in range(event.get("bulk", 0)):  # log_line_bench's heavy logger: 200-byte lines
        print("x" * 199)
    return None
"""


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    return buf.getvalue()


def _rate(port: int, body: bytes, seconds: float) -> tuple[float, list[float]]:
    client = LeanClient(port)
    request = _request("obs", body)
    samples = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t = time.perf_counter()
        client.call(request)
        samples.append((time.perf_counter() - t) * 1000)
    client.close()
    return len(samples) / seconds, samples


# name → (serve flags, the event: whether the function prints a line)
VARIANTS = {
    "off": (("--lambda-metrics", "off", "--tracing", "off"), b'{"quiet": true}'),
    "on": ((), b'{"quiet": true}'),
    "on, sample all": (("--xray-sampling", "all"), b'{"quiet": true}'),
    "on+log line": ((), b'{"n": 1}'),
}


def invoke_overhead(rounds: int, seconds: float) -> None:
    folders = [tempfile.TemporaryDirectory() for _ in VARIANTS]
    servers: dict[str, LaminaProcess] = {}
    try:
        for (name, (flags, body)), folder in zip(VARIANTS.items(), folders, strict=True):
            server = servers[name] = LaminaProcess(Path(folder.name), *flags).start()
            server.client().create_function(
                FunctionName="obs", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": _zip()}, TracingConfig={"Mode": "Active"},
            )  # fmt: skip
            _rate(server.port, body, 1.0)  # warm
        rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
        latencies: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(rounds):
            for name, (_flags, body) in VARIANTS.items():
                rate, samples = _rate(servers[name].port, body, seconds)
                rates[name].append(rate)
                latencies[name].extend(samples)
        for name in VARIANTS:
            print(
                f"warm invoke, observability {name:>14}: {statistics.median(rates[name]):8.0f} invokes/s (median of "
                f"{rounds} rounds), p50 {_pct(latencies[name], 0.5):.3f} ms, p99 {_pct(latencies[name], 0.99):.3f} ms"
            )
        base_rate, base_p50 = statistics.median(rates["off"]), _pct(latencies["off"], 0.5)
        for name in ("on", "on, sample all", "on+log line"):
            ratio = statistics.median(rates[name]) / base_rate
            print(
                f"{name} / off: throughput {ratio:.3f} (cost {100 * (1 - ratio):.1f}%, target <= 10%), "
                f"p50 latency {_pct(latencies[name], 0.5) / base_p50:.3f}"
            )
        xray = servers["on"].client("xray")
        got = xray.get_trace_summaries(StartTime=time.time() - 3600, EndTime=time.time() + 60)
        print(f"traces the on server recorded: {got['TracesProcessedCount']} looked at (one answer reads <= 1000)")
    finally:
        for server in servers.values():
            server.stop()
        for folder in folders:
            folder.cleanup()


def _record(spec: VersionSpec, arn: str, request_id: str, now: float) -> TracedInvocation:
    invocation = Invocation(request_id, b"{}", arn, trace_id=for_invocation("Active")[0])
    return TracedInvocation(spec, invocation, now, now + 0.001, now + 0.0011, None, None, None, b"null")


def hook_cost(calls: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        clock = SystemClock()
        engine = TraceEngine(TraceTables(Path(d) / "lamina.db", "OFF"), clock, "000000000000")
        arn = "arn:aws:lambda:us-east-1:000000000000:function:obs"
        spec = VersionSpec("obs", arn, "$LATEST", "python3.12", "app.handler", Path(d), tracing_mode="Active")
        now = time.time()
        records = [_record(spec, arn, f"r{i}", now) for i in range(calls)]
        t = time.perf_counter()
        for record in records:
            engine.traced(record)
        per_call = (time.perf_counter() - t) / calls * 1e6
        t = time.perf_counter()
        engine.flush()
        flush_us = (time.perf_counter() - t) / calls * 1e6
        engine.tables.close()
    print(
        f"tracing hook on the invoke path: {per_call:.2f} us per invocation; the writer thread: "
        f"{flush_us:.1f} us per traced invocation (two segments built and committed, {calls:,} in one flush)"
    )


def header_cost(calls: int) -> None:
    """for_invocation for an Active function without a caller's header: every one sampled vs the default rule."""
    arn = "arn:aws:lambda:us-east-1:000000000000:function:obs"
    figures = {}
    for name, sampling in (("all", None), ("default", DefaultSampling(SystemClock()))):
        trace_header.use_sampling(sampling)
        t = time.perf_counter()
        sampled = sum(for_invocation("Active", None, arn)[0].endswith("1") for _ in range(calls))
        figures[name] = ((time.perf_counter() - t) / calls * 1e6, sampled)
    trace_header.use_sampling(None)
    print(
        "trace header per invocation: "
        + ", ".join(f"sampling {n} {us:.2f} us ({k:,} of {calls:,} sampled)" for n, (us, k) in figures.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(
        "sampling: servers 'on' and 'on+log line' use X-Ray's default rule (--xray-sampling default: 1/s per "
        "function + 5%); 'on, sample all' traces every invocation; the hook figures trace every call"
    )
    hook_cost(20_000)
    header_cost(200_000)
    invoke_overhead(args.rounds, args.seconds)


if __name__ == "__main__":
    main()
