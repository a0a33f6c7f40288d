"""Durable async enqueue rate: Event invokes answered 202 per second, each committed to SQLite first (group
commit, synchronous=FULL), with many concurrent clients; and beside it the drain rate of a no-op function.

    .venv/bin/python bench/async_bench.py [--seconds 10] [--connections 64] [--threads 2]

Load comes from wrk with a Lua POST script when wrk is installed, else from the asyncio raw-socket client
of the tests. The server is a real `lamina serve` process; the figures come from wrk and from the server's
own counters (/health asyncInvocations), so "accepted" means committed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.async_invoke.event_client import send_events
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

LUA = """
wrk.method = "POST"
wrk.body = '{"bench": true}'
wrk.headers["X-Amz-Invocation-Type"] = "Event"
"""


def health(server: LaminaProcess) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(urllib.request.urlopen(server.url + "/health").read())["asyncInvocations"]
    return stats


def post(server: LaminaProcess, action: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/_lamina/async/{action}", data=b"", method="POST"))


def with_wrk(server: LaminaProcess, seconds: int, connections: int, threads: int) -> tuple[str, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    url = f"{server.url}/2015-03-31/functions/noop/invocations"
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", script.name, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    print(out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return " ".join(cmd), rate, int(bad.group(1)) if bad else 0


def with_asyncio(server: LaminaProcess, seconds: int, connections: int) -> tuple[str, float, int]:
    accepted: set[int] = set()
    deadline = time.monotonic() + seconds

    def events() -> Any:
        for i in itertools.count():
            if time.monotonic() > deadline:
                return
            yield i, b'{"bench": true}'

    started = time.monotonic()
    failures = asyncio.run(send_events(server.port, "noop", events(), connections, accepted))
    return f"asyncio client, {connections} connections", len(accepted) / (time.monotonic() - started), failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--client", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            lam = server.client()
            lam.create_function(
                FunctionName="noop",
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return None\n"})},
            )
            while lam.get_function_configuration(FunctionName="noop")["State"] != "Active":
                time.sleep(0.05)
            post(server, "pause")  # intake alone first: events are committed and stay queued
            if args.client == "wrk":
                command, rate, bad = with_wrk(server, args.seconds, args.connections, args.threads)
            else:
                command, rate, bad = with_asyncio(server, args.seconds, args.connections)
            accepted = health(server).get("accepted", 0)
            drain_started = time.monotonic()
            post(server, "resume")
            while health(server).get("succeeded", 0) < accepted:
                time.sleep(0.02)
            drain_s = time.monotonic() - drain_started
            print(f"command: {command}")
            print(f"durable enqueue: {rate:,.0f} events/s answered 202 (non-202: {bad}); committed: {accepted:,}")
            print(
                f"drain (no-op function): {accepted:,} events in {drain_s:.1f} s = {accepted / drain_s:,.0f} events/s"
            )
        finally:
            server.stop(timeout=30)


if __name__ == "__main__":
    main()
