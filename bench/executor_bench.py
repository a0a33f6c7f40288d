"""Benchmark of the execution data plane, measured through `Executor.invoke` (no HTTP).

    .venv/bin/python bench/executor_bench.py [--cold 200] [--warm 5000]

Prints: sandboxed cold start p50/p99 (a fresh environment per invoke: zygote fork, namespaces, cgroup,
private root, runtime init, first invoke; once with each environment retired before the next, once as a
burst of new functions that keep theirs), warm invoke p50/p99, idle environment private memory (USS from
/proc/<pid>/smaps_rollup), an in-process call of the same no-op handler and a process-per-invoke runner
(what emulators without warm environments do), with ratios against both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import uvloop

from lamina.clock import SystemClock
from lamina.invoke.executor import Executor
from lamina.sandbox.settings import SandboxSettings
from lamina.types import Invocation, VersionSpec

NOOP = "def handler(event, context):\n    return None\n"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def uss_kb(pid: int) -> int:
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def invocation(spec: VersionSpec) -> Invocation:
    return Invocation(request_id=str(uuid.uuid4()), payload=b"{}", invoked_arn=spec.function_arn)


async def measure(
    code_dir: Path, data_dir: Path, cold_n: int, warm_n: int, idle_n: int, burst_n: int
) -> dict[str, float]:
    executor = Executor(SandboxSettings(), SystemClock(), data_dir)
    await executor.start()
    spec = VersionSpec(
        function_name="bench",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:bench",
        version="$LATEST",
        runtime="python3.11",
        handler="app.handler",
        code_dir=code_dir,
    )
    out: dict[str, float] = {}
    try:
        print(f"isolation: {json.dumps(executor.isolation_report())}")
        for i in range(20):  # warm-up: page cache, zygote pages, cgroup pool
            await executor.invoke(replace(spec, config_key=f"warmup-{i}"), invocation(spec))
            executor.retire(spec.function_arn)
        cold: list[float] = []
        for i in range(cold_n):
            fresh = replace(spec, config_key=f"cold-{i}")
            t0 = time.perf_counter()
            result = await executor.invoke(fresh, invocation(fresh))
            cold.append((time.perf_counter() - t0) * 1000)
            assert result.function_error is None and result.init_duration_ms is not None, result
            executor.retire(spec.function_arn)
            await asyncio.sleep(0.002)  # let the retired environment die, as it would between requests
        out["cold_p50"], out["cold_p99"] = pct(cold, 0.5), pct(cold, 0.99)

        # A burst of cold starts of new functions that keep their environments (what the API benchmark
        # does): each takes a resident and its cgroup for good, so the spare pool must keep up.
        burst: list[float] = []
        for i in range(burst_n):
            fresh = replace(spec, config_key=f"burst-{i}")
            t0 = time.perf_counter()
            result = await executor.invoke(fresh, invocation(fresh))
            burst.append((time.perf_counter() - t0) * 1000)
            assert result.function_error is None, result
        executor.retire(spec.function_arn)
        if burst:
            out["burst_p50"], out["burst_p99"] = pct(burst, 0.5), pct(burst, 0.99)
        await asyncio.sleep(0.2)

        warm_spec = replace(spec, config_key="warm")
        for _ in range(200):
            await executor.invoke(warm_spec, invocation(warm_spec))
        warm: list[float] = []
        for _ in range(warm_n):
            inv = invocation(warm_spec)
            t0 = time.perf_counter()
            await executor.invoke(warm_spec, inv)
            warm.append((time.perf_counter() - t0) * 1000)
        out["warm_p50"], out["warm_p99"] = pct(warm, 0.5), pct(warm, 0.99)

        idle_specs = [replace(spec, config_key=f"idle-{i}") for i in range(idle_n)]
        await asyncio.gather(*(executor.invoke(s, invocation(s)) for s in idle_specs))
        for s in idle_specs:
            for _ in range(5):
                await executor.invoke(s, invocation(s))
        await asyncio.sleep(0.2)
        pids = [e.pid for e in executor._pool if e.spec.config_key.startswith("idle-")]
        usses = [uss_kb(pid) for pid in pids]
        out["uss_kb_median"] = statistics.median(usses)
        out["uss_kb_max"] = max(usses)
    finally:
        await executor.close()
    return out


def in_process(code_dir: Path, n: int) -> tuple[float, float]:
    sys.path.insert(0, str(code_dir))
    import app  # type: ignore[import-not-found]

    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        json.dumps(app.handler(json.loads(b"{}"), None))
        samples.append((time.perf_counter() - t0) * 1000)
    return pct(samples, 0.5), pct(samples, 0.99)


def process_per_invoke(code_dir: Path, n: int) -> tuple[float, float]:
    code = "import json, sys, app; print(json.dumps(app.handler(json.loads(sys.argv[1]), None)))"
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, "{}"], cwd=code_dir, check=True, capture_output=True)
        samples.append((time.perf_counter() - t0) * 1000)
    return pct(samples, 0.5), pct(samples, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", type=int, default=200)
    parser.add_argument("--warm", type=int, default=5000)
    parser.add_argument("--idle", type=int, default=10)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--process", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        code_dir = root / "code"
        code_dir.mkdir()
        code_dir.chmod(0o755)
        (code_dir / "app.py").write_text(NOOP)
        (code_dir / "app.py").chmod(0o644)
        figures = uvloop.run(measure(code_dir, root / "data", args.cold, args.warm, args.idle, args.burst))
        inproc_p50, inproc_p99 = in_process(code_dir, 10000)
        proc_p50, proc_p99 = process_per_invoke(code_dir, args.process)
    print(
        f"cold start (sandboxed, fresh env per invoke): p50 {figures['cold_p50']:.2f} ms  "
        f"p99 {figures['cold_p99']:.2f} ms"
    )
    if "burst_p50" in figures:
        print(
            f"cold start, burst of new functions (kept):    p50 {figures['burst_p50']:.2f} ms  "
            f"p99 {figures['burst_p99']:.2f} ms"
        )
    print(
        f"warm invoke through Executor:                 p50 {figures['warm_p50'] * 1000:.0f} us  "
        f"p99 {figures['warm_p99'] * 1000:.0f} us"
    )
    print(
        f"idle environment USS:                         median {figures['uss_kb_median']:.0f} KB  "
        f"max {figures['uss_kb_max']:.0f} KB"
    )
    print(
        f"in-process handler call:                      p50 {inproc_p50 * 1000:.1f} us  p99 {inproc_p99 * 1000:.1f} us"
    )
    print(f"process per invoke:                           p50 {proc_p50:.2f} ms  p99 {proc_p99:.2f} ms")
    print(f"warm vs in-process: {figures['warm_p50'] / inproc_p50:.0f}x slower;  "
          f"warm vs process-per-invoke: {proc_p50 / figures['warm_p50']:.0f}x faster;  "
          f"cold vs process-per-invoke: {proc_p50 / figures['cold_p50']:.1f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
