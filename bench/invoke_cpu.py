"""Where the CPU of a warm invoke goes: server, runtimes, and the kernel's softirq time, per invoke.

Throughput on a small shared VM swings by ±20% from minute to minute; CPU time per invoke moves much less,
so this is the figure to compare changes of the invoke path with. Lamina runs as a real `lamina serve`
subprocess; wrk drives a no-op Python function with N connections for a few seconds while the CPU time
(utime + stime from /proc) of the server's threads, of its descendants (zygotes, environments) and the
machine's softirq time are read before and after.

    .venv/bin/python bench/invoke_cpu.py [--clients 1 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoke_bench import _zip, throughput  # the same no-op function and wrk driver as the invoke bench
from tests.server import ROLE, LaminaProcess, cpu_seconds, descendants

TICK = os.sysconf("SC_CLK_TCK")


def _softirq() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[7]) / TICK


def measure(server: LaminaProcess, clients: int, seconds: int) -> dict[str, float]:
    assert server.proc is not None
    throughput(server.port, "bench-cpu", clients, 2)  # environments started, caches warm
    others = descendants(server.proc.pid)
    server_before = cpu_seconds(server.proc.pid)
    others_before = {p: cpu_seconds(p) for p in others}
    softirq_before = _softirq()
    rate, _ = throughput(server.port, "bench-cpu", clients, seconds)
    invokes = rate * seconds
    server_cpu = cpu_seconds(server.proc.pid) - server_before
    runtime_cpu = sum(cpu_seconds(p) - others_before.get(p, 0.0) for p in descendants(server.proc.pid))
    return {
        "rate": rate,
        "server_us": server_cpu / invokes * 1e6,
        "runtimes_us": runtime_cpu / invokes * 1e6,
        "softirq_us": (_softirq() - softirq_before) / invokes * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            client = server.client()
            client.create_function(FunctionName="bench-cpu", Runtime="python3.12", Role=ROLE,
                                   Handler="app.handler", Code={"ZipFile": _zip()})  # fmt: skip
            client.get_waiter("function_active_v2").wait(FunctionName="bench-cpu", WaiterConfig={"Delay": 0.05})
            for clients in args.clients:
                m = measure(server, clients, args.seconds)
                print(
                    f"{clients:3d} clients: {m['rate']:7.0f} invokes/s; CPU per invoke: "
                    f"server {m['server_us']:6.1f} us, runtimes {m['runtimes_us']:6.1f} us, "
                    f"softirq {m['softirq_us']:5.1f} us"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
