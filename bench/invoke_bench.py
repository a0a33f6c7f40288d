"""Invoke through the Lambda API, measured against two baselines in the same run.

Lamina runs as a real `lamina serve` subprocess (fully sandboxed environments, as users get it).
Measured:
  * warm invoke latency p50/p99 of a no-op Python handler through POST .../invocations, with a lean
    keep-alive HTTP client (raw socket) and with boto3;
  * throughput with 1 and 32 concurrent clients (wrk when installed, else an asyncio client), each after
    2 s of the same load unmeasured (the environments 32 clients need are started by then);
  * client-observed cold start p50/p99 of a fresh, fully sandboxed environment per invoke: one function
    whose environment is retired before each invoke (recycled), and separately a burst of first invokes of
    new functions that all keep their environments (bounded by the host's cgroup v1 attach rate);
  * private memory (USS) of an idle environment.
Baselines, same machine, same run: an in-process call of the same handler, and a process-per-invoke
runner (a fresh interpreter that imports the handler and calls it, what emulators without warm
environments do). Figures are printed with ratios against both.

    .venv/bin/python bench/invoke_bench.py [--warm 5000] [--cold 100] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server import ROLE, LaminaProcess, cpu_seconds, descendants

HANDLER = "def handler(event, context):\n    return None\n"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    return buf.getvalue()


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _request(name: str, body: bytes = b"{}") -> bytes:
    return (
        f"POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class LeanClient:
    """A keep-alive HTTP/1.1 client on a raw socket: the least a client can do per request."""

    def __init__(self, port: int) -> None:
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def call(self, request: bytes, expect: bytes = b"200") -> bytes:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
        length = int(m.group(1)) if m else 0
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        if not head.startswith(b"HTTP/1.1 " + expect):
            raise RuntimeError(head.decode(errors="replace"))
        return rest[:length]

    def close(self) -> None:
        self.sock.close()


def warm_latency_lean(port: int, name: str, count: int) -> list[float]:
    client = LeanClient(port)
    request = _request(name)
    for _ in range(200):
        client.call(request)
    samples = []
    for _ in range(count):
        t = time.perf_counter()
        client.call(request)
        samples.append((time.perf_counter() - t) * 1000)
    client.close()
    return samples


def warm_latency_boto3(server: LaminaProcess, name: str, count: int) -> list[float]:
    client = server.client()
    for _ in range(50):
        client.invoke(FunctionName=name, Payload=b"{}")
    samples = []
    for _ in range(count):
        t = time.perf_counter()
        client.invoke(FunctionName=name, Payload=b"{}")
        samples.append((time.perf_counter() - t) * 1000)
    return samples


async def _async_load(port: int, name: str, connections: int, seconds: float) -> float:
    request = _request(name)
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            await reader.readexactly(int(m.group(1)) if m else 0)
            done += 1
        writer.close()

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - t)


def throughput(port: int, name: str, connections: int, seconds: int) -> tuple[float, str]:
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write('wrk.method = "POST"\nwrk.body = "{}"\n')
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
             f"http://127.0.0.1:{port}/2015-03-31/functions/{name}/invocations"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        os.unlink(script.name)
        if "Non-2xx" in out:
            raise RuntimeError(out)
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert m, out
        return float(m.group(1)), "wrk"
    return asyncio.run(_async_load(port, name, connections, seconds)), "asyncio client"


def cold_starts(server: LaminaProcess, count: int) -> list[float]:
    client = server.client()
    code = _zip()
    names = [f"bench-cold-{i}-{os.getpid()}" for i in range(count)]
    for name in names:
        client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                               Code={"ZipFile": code})  # fmt: skip
    for name in names:
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05})
    lean = LeanClient(server.port)
    samples = []
    for name in names:
        t = time.perf_counter()
        lean.call(_request(name))
        samples.append((time.perf_counter() - t) * 1000)
    lean.close()
    return samples


def recycled_cold_starts(server: LaminaProcess, count: int) -> list[float]:
    """A fresh sandboxed environment per invoke of one function: each UpdateFunctionConfiguration retires
    the previous environment (its cgroup and resident return to the pool), so the next invoke starts a new
    one. The update and its settling happen before the clock starts."""
    client = server.client()
    name = f"bench-recycled-{os.getpid()}"
    client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                           Code={"ZipFile": _zip()})  # fmt: skip
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05})
    lean = LeanClient(server.port)
    samples = []
    for i in range(count):
        client.update_function_configuration(FunctionName=name, Environment={"Variables": {"ROUND": str(i)}})
        while client.get_function_configuration(FunctionName=name).get("LastUpdateStatus") != "Successful":
            time.sleep(0.01)
        time.sleep(0.05)  # let the retired environment exit and its resident return to the pool
        t = time.perf_counter()
        lean.call(_request(name))
        samples.append((time.perf_counter() - t) * 1000)
    lean.close()
    return samples


def _uss_kb(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _ksmd_cpu_s() -> float:
    """CPU seconds the kernel's same-page merging thread has used so far (0 where there is none)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                name = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if name == "ksmd":
                return cpu_seconds(int(entry))
    return 0.0


def _full_scans() -> int:
    return int(Path("/sys/kernel/mm/ksm/full_scans").read_text())


def _merging() -> bool:
    try:
        return Path("/sys/kernel/mm/ksm/run").read_text().strip() == "1"
    except OSError:
        return False


class IdleMemory:
    """USS of the environments that `names` got on their first invoke: the function's own process (it runs
    as an unprivileged per-environment uid), and all new processes divided by the environments (that also
    counts the root-owned residents that host them and the spare pool refilled meanwhile). Measured 0.5 s
    after the invokes and, when the kernel merges identical pages (KSM, see sandbox/memory_merge.py), again
    once merging has settled (USS no longer falling), with the CPU time ksmd spent meanwhile."""

    def __init__(self, server: LaminaProcess, names: list[str], settle_s: float) -> None:
        assert server.proc is not None
        before = set(descendants(server.proc.pid))
        lean = LeanClient(server.port)
        for name in names:
            lean.call(_request(name))
        lean.close()
        time.sleep(0.5)
        self.new = [p for p in descendants(server.proc.pid) if p not in before]
        self.envs = len(names)
        self.first = self._measure()
        self.settled: tuple[float, float, int] | None = None
        self.settle_seconds = 0.0
        self.ksmd_cpu_s = 0.0
        if _merging():
            # KSM merges a page once it has seen it unchanged on two full scans: measure after each full
            # scan from the second on, until USS stops falling.
            cpu0, t0 = _ksmd_cpu_s(), time.perf_counter()
            scans, last = _full_scans(), self.first[0]
            while time.perf_counter() - t0 < settle_s:
                time.sleep(1)
                if _full_scans() < scans + 2:
                    continue
                scans = _full_scans()
                now = self._measure()
                if now[0] >= last * 0.99:
                    break
                last = now[0]
            self.settled = self._measure()
            self.settle_seconds = time.perf_counter() - t0
            self.ksmd_cpu_s = _ksmd_cpu_s() - cpu0

    def _measure(self) -> tuple[float, float, int]:
        runtime = [s for s in (_uss_kb(p) for p in self.new if (_uid(p) or 0) >= 61000) if s is not None]
        everything = [s for s in (_uss_kb(p) for p in self.new) if s is not None]
        per_runtime = sum(runtime) / max(1, len(runtime))
        per_env_all = sum(everything) / max(1, self.envs)
        return per_runtime / 1024, per_env_all / 1024, len(self.new)


def in_process_baseline(count: int) -> list[float]:
    namespace: dict[str, Any] = {}
    exec(HANDLER, namespace)
    handler = namespace["handler"]
    samples = []
    for _ in range(count):
        t = time.perf_counter()
        json.dumps(handler(json.loads(b"{}"), None))
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def process_per_invoke_baseline(count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "app.py").write_text(HANDLER)
        code = "import json, sys, app; print(json.dumps(app.handler(json.loads(sys.argv[1]), None)))"
        samples = []
        for _ in range(count):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-S", "-c", code, "{}"], cwd=folder, check=True, capture_output=True)
            samples.append((time.perf_counter() - t) * 1000)
        return samples


def _halt_polling() -> str:
    """Whether idle CPUs poll before halting: on a VM that decides what waking a process on an idle CPU
    costs (see sandbox/placement.py)."""
    try:
        ns = Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns").read_text().strip()
    except OSError:
        return "guest halt polling: not a haltpoll guest"
    return f"guest halt polling: {ns} ns"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=5000)
    parser.add_argument("--boto3", type=int, default=1000)
    parser.add_argument("--cold", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=150.0, help="max seconds to wait for page merging")
    parser.add_argument("--cpu-placement", choices=("auto", "off"), default="auto", help="lamina serve's option")
    args = parser.parse_args()
    serve_args = ("--cpu-placement", args.cpu_placement)

    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data), *serve_args).start()
        try:
            client = server.client()
            client.create_function(FunctionName="bench-noop", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Code={"ZipFile": _zip()})  # fmt: skip
            client.get_waiter("function_active_v2").wait(FunctionName="bench-noop", WaiterConfig={"Delay": 0.05})

            lean = warm_latency_lean(server.port, "bench-noop", args.warm)
            boto = warm_latency_boto3(server, "bench-noop", args.boto3)
            # Steady state: each load first runs 2 s unmeasured, so the environments the 32 clients need are
            # started (cold starts are measured below) before the measured seconds.
            throughput(server.port, "bench-noop", 1, 2)
            rps1, tool = throughput(server.port, "bench-noop", 1, args.seconds)
            throughput(server.port, "bench-noop", 32, 2)
            rps32, _ = throughput(server.port, "bench-noop", 32, args.seconds)
            cold = cold_starts(server, args.cold)
            recycled = recycled_cold_starts(server, args.cold)
        finally:
            server.stop()
    # Idle memory on a server of its own: only the idle environments (and their residents and spares) exist,
    # so what the kernel's page merging has to scan is what is being measured.
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            client = server.client()
            idle_names = [f"bench-idle-{i}" for i in range(20)]
            for name in idle_names:
                client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                       Handler="app.handler", Code={"ZipFile": _zip()})  # fmt: skip
                client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05})
            idle = IdleMemory(server, idle_names, args.settle)
        finally:
            server.stop()

    inproc = in_process_baseline(args.warm)
    perproc = process_per_invoke_baseline(min(args.cold, 50))

    def line(label: str, samples: list[float]) -> str:
        return f"{label:<44} p50 {_pct(samples, 0.5):8.3f} ms   p99 {_pct(samples, 0.99):8.3f} ms"

    print(f"machine: {os.cpu_count()} cpus, python {sys.version.split()[0]}, {_halt_polling()}")
    print(f"lamina serve --cpu-placement {args.cpu_placement}")
    print(line("warm invoke, lean keep-alive client", lean))
    print(line("warm invoke, boto3", boto))
    print(line("cold start, fresh env per invoke (recycled)", recycled))
    print(line("cold start, burst of new functions", cold))
    print(line("baseline: in-process call", inproc))
    print(line("baseline: process per invoke", perproc))
    print(f"{'throughput, 1 client (' + tool + ')':<44} {rps1:10.0f} invokes/s")
    print(f"{'throughput, 32 clients (' + tool + ')':<44} {rps32:10.0f} invokes/s")
    uss_mb, uss_all_mb, processes = idle.first
    print(f"{'idle environment private memory (USS)':<44} {uss_mb:8.2f} MB per environment's function process")
    print(f"{'  with residents and spares, per environment':<44} {uss_all_mb:8.2f} MB ({processes} new processes)")
    if idle.settled is not None:
        merged, merged_all, _ = idle.settled
        print(
            f"{'  after same-page merging settled':<44} {merged:8.2f} MB per function process, "
            f"{merged_all:.2f} MB with residents and spares ({idle.settle_seconds:.0f} s, "
            f"ksmd used {idle.ksmd_cpu_s:.2f} s of CPU)"
        )
    else:
        print("  (no same-page merging on this host: ksmd is not running)")
    p50 = _pct(lean, 0.5)
    print(f"warm p50 vs in-process call:      {p50 / _pct(inproc, 0.5):10.0f}x slower")
    print(f"warm p50 vs process per invoke:   {_pct(perproc, 0.5) / p50:10.0f}x faster")
    print(f"cold p50 vs process per invoke:   {_pct(perproc, 0.5) / _pct(recycled, 0.5):10.1f}x faster")
    print(f"mean warm lean latency {statistics.mean(lean):.3f} ms over {len(lean)} invokes")


if __name__ == "__main__":
    main()
