"""What `--function-network isolated` costs a cold start: two servers side by side (`host` and `isolated`),
each round creating a new function on both (the order alternating) and timing its first invoke (a cold start:
a new environment, in its own network namespace for `isolated`) and then a warm one.

    .venv/bin/python bench/function_network_bench.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

CODE = "def handler(event, context):\n    return event\n"


def _cold_and_warm(lam: object, name: str) -> tuple[float, float]:
    lam.create_function(  # type: ignore[attr-defined]
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": CODE})},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05})  # type: ignore[attr-defined]
    t = time.perf_counter()
    lam.invoke(FunctionName=name, Payload=b"{}")  # type: ignore[attr-defined]
    cold = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    lam.invoke(FunctionName=name, Payload=b"{}")  # type: ignore[attr-defined]
    warm = (time.perf_counter() - t) * 1000
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        servers = {
            "host": LaminaProcess(Path(a), "--function-network", "host").start(),
            "isolated": LaminaProcess(Path(b), "--function-network", "isolated").start(),
        }
        try:
            clients = {mode: server.client("lambda") for mode, server in servers.items()}
            for mode, lam in clients.items():  # the first start of each server builds its zygote and spares
                _cold_and_warm(lam, f"warmup-{mode}")
            cold: dict[str, list[float]] = {"host": [], "isolated": []}
            warm: dict[str, list[float]] = {"host": [], "isolated": []}
            for round_ in range(args.rounds):
                order = ["host", "isolated"] if round_ % 2 == 0 else ["isolated", "host"]
                for mode in order:
                    c, w = _cold_and_warm(clients[mode], f"f-{uuid.uuid4().hex[:8]}")
                    cold[mode].append(c)
                    warm[mode].append(w)
        finally:
            for server in servers.values():
                server.stop()
    print(f"{args.rounds} rounds; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"{'':24}{'host':>12}{'isolated':>12}{'isolated/host':>15}")
    for label, figures in (("cold invoke p50", cold), ("warm invoke p50", warm)):
        h, i = statistics.median(figures["host"]), statistics.median(figures["isolated"])
        print(f"{label:24}{h:>10.1f}ms{i:>10.1f}ms{i / h:>15.2f}")
    for label, figures in (("cold invoke min-max", cold),):
        spans = {m: f"{min(v):.1f}-{max(v):.1f}" for m, v in figures.items()}
        print(f"{label:24}{spans['host']:>12}{spans['isolated']:>12}")


if __name__ == "__main__":
    main()
