"""What one print() per invocation costs the warm invoke path, measured on one server against itself.

One `lamina serve` per code version (`--code DIR` runs the server from DIR/src through PYTHONPATH, e.g. a checkout
of an older commit; default: this checkout), one Python function; blocks of quiet invocations and of invocations
that print one line alternate (over the versions too), so load from elsewhere falls on all alike. Per kind: p50
latency, rate, and the CPU the server and its sandboxes used per invocation (from /proc, each block's log batch
included). Then the p50 of a function printing 200 KB per invocation (1,000 lines), per version: a pipe fills
before the result comes.

    .venv/bin/python bench/log_line_bench.py [--blocks 20] [--per-block 500] [--code DIR ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from invoke_bench import LeanClient, _request
from observability_bench import _zip
from tests.server import ROLE, LaminaProcess

_TICK = os.sysconf("SC_CLK_TCK")
KINDS = {"quiet": b'{"quiet": true}', "line": b'{"n": 1}'}


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of `root` and its live descendants."""
    stats: dict[str, tuple[str, int]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[pid] = (fields[1], int(fields[11]) + int(fields[12]))
    tree = {str(root)}
    for _ in range(8):
        tree |= {pid for pid, (parent, _) in stats.items() if parent in tree}
    return sum(stats[pid][1] for pid in tree if pid in stats) / _TICK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--per-block", type=int, default=500)
    parser.add_argument("--code", action="append", default=[], help="a checkout whose src/ the server runs")
    args = parser.parse_args()
    versions = args.code or [""]
    folders = [tempfile.TemporaryDirectory() for _ in versions]
    servers: dict[str, LaminaProcess] = {}
    saved = os.environ.get("PYTHONPATH")
    try:
        for version, folder in zip(versions, folders, strict=True):
            if version:
                os.environ["PYTHONPATH"] = str(Path(version).resolve() / "src")
            server = servers[version] = LaminaProcess(Path(folder.name)).start()
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
            server.client().create_function(
                FunctionName="obs", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": _zip()}, TracingConfig={"Mode": "Active"},
            )  # fmt: skip
        clients = {version: LeanClient(server.port) for version, server in servers.items()}
        requests = {kind: _request("obs", body) for kind, body in KINDS.items()}
        for version in versions:
            for _ in range(1000):
                clients[version].call(requests["line"])
        keys = [(version, kind) for version in versions for kind in KINDS]
        latencies: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
        cpu = dict.fromkeys(keys, 0.0)
        wall = dict.fromkeys(keys, 0.0)
        for _ in range(args.blocks):
            for version, kind in keys:
                pid = servers[version].proc.pid  # type: ignore[union-attr]
                client, request = clients[version], requests[kind]
                cpu0, wall0 = tree_cpu_s(pid), time.perf_counter()
                for _ in range(args.per_block):
                    t = time.perf_counter()
                    client.call(request)
                    latencies[version, kind].append((time.perf_counter() - t) * 1e6)
                wall[version, kind] += time.perf_counter() - wall0
                time.sleep(0.06)  # the log writer's next batch (every 50 ms) lands in this block's CPU
                cpu[version, kind] += tree_cpu_s(pid) - cpu0
        n = args.blocks * args.per_block
        for version in versions:
            quiet, line = (version, "quiet"), (version, "line")
            p50q, p50l = statistics.median(latencies[quiet]), statistics.median(latencies[line])
            print(
                f"{version or 'this checkout'}: quiet p50 {p50q:.1f} us, {n / wall[quiet]:.0f}/s, CPU "
                f"{cpu[quiet] / n * 1e6:.0f} us | one line p50 {p50l:.1f} us, {n / wall[line]:.0f}/s, CPU "
                f"{cpu[line] / n * 1e6:.0f} us | the line: p50 {p50l - p50q:+.1f} us, CPU "
                f"{(cpu[line] - cpu[quiet]) / n * 1e6:+.0f} us, rate x{wall[quiet] / wall[line]:.3f}"
            )
        heavy = _request("obs", b'{"quiet": true, "bulk": 1000}')
        for version in versions:
            samples = []
            for i in range(120):
                t = time.perf_counter()
                clients[version].call(heavy)
                if i >= 20:  # the first ones teach the capture this function logs heavily
                    samples.append((time.perf_counter() - t) * 1000)
            p50 = statistics.median(samples)
            print(f"{version or 'this checkout'}: printing 200 KB per invocation, p50 {p50:.2f} ms")
    finally:
        for server in servers.values():
            server.stop()
        for folder in folders:
            folder.cleanup()


if __name__ == "__main__":
    main()
