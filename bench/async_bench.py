"""Durable async enqueue rate: Event invokes answered 202 per second, each committed to SQLite first
(synchronous=FULL: the event's WAL fsync is done before its 202 is sent), for ONE sequential client and for
many concurrent clients; beside them the drain rate of a no-op function, and two baselines measured in the
same run on the same file system: the raw write+fsync rate, and a plain SQLite insert+commit loop
(WAL, synchronous=FULL, one row per transaction). The ratios against the SQLite loop are the figures that
count on a shared machine:

  * sequential / SQLite loop: what one caller gets out of the server against one bare fsync'd commit per
    event (the fsync is the floor: this ratio is below 1, and the HTTP round trip is the rest);
  * many clients / SQLite loop: above 1 only because group commit shares one fsync among many events.

    .venv/bin/python bench/async_bench.py [--seconds 5] [--connections 64] [--threads 2] [--boto3 2000]

The sequential client is a lean keep-alive HTTP/1.1 client on a raw socket (bench/invoke_bench.py's), one
request at a time; it runs with polling paused (intake alone: every event stays queued) and again while
the pollers drain each event as it arrives; boto3's sequential rate is printed beside it. Many-client load
comes from wrk with a Lua POST script when installed, else the asyncio raw-socket client of the tests. The
server is a real `lamina serve` process; "committed" comes from its own counters (/health asyncInvocations).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from invoke_bench import LeanClient
from tests.async_invoke.event_client import request, send_events
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

LUA = """
wrk.method = "POST"
wrk.body = '{"bench": true}'
wrk.headers["X-Amz-Invocation-Type"] = "Event"
"""
BODY = b'{"bench": true}'


def health(server: LaminaProcess) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(urllib.request.urlopen(server.url + "/health").read())["asyncInvocations"]
    return stats


def post(server: LaminaProcess, action: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/_lamina/async/{action}", data=b"", method="POST"))


# -- baselines ----------------------------------------------------------------------------------------
def fsync_rate(directory: Path, seconds: float) -> float:
    """write(100 bytes) + fsync, one after another, on the data directory's file system."""
    fd = os.open(directory / "fsync-baseline", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        done, stop = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < stop:
            os.write(fd, b"x" * 100)
            os.fsync(fd)
            done += 1
        return done / (time.perf_counter() - started)
    finally:
        os.close(fd)
        os.unlink(directory / "fsync-baseline")


def sqlite_commit_rate(directory: Path, seconds: float) -> float:
    """One INSERT per transaction, WAL + synchronous=FULL: the durable commit loop a naive store would run."""
    path = directory / "sqlite-baseline.db"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload BLOB)")
        done, stop = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < stop:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO events (payload) VALUES (?)", (BODY,))
            db.execute("COMMIT")
            done += 1
        return done / (time.perf_counter() - started)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- one sequential client ----------------------------------------------------------------------------
def sequential_lean(server: LaminaProcess, seconds: float) -> tuple[float, list[float]]:
    client = LeanClient(server.port)
    req = request("noop", BODY)
    for _ in range(200):
        client.call(req, expect=b"202")
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop:
        t = time.perf_counter()
        client.call(req, expect=b"202")
        samples.append((time.perf_counter() - t) * 1000)
    rate = len(samples) / (time.perf_counter() - started)
    client.close()
    return rate, samples


def sequential_boto3(server: LaminaProcess, count: int) -> float:
    lam = server.client()
    for _ in range(50):
        lam.invoke(FunctionName="noop", InvocationType="Event", Payload=BODY)
    started = time.perf_counter()
    for _ in range(count):
        assert lam.invoke(FunctionName="noop", InvocationType="Event", Payload=BODY)["StatusCode"] == 202
    return count / (time.perf_counter() - started)


# -- many clients -------------------------------------------------------------------------------------
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
            yield i, BODY

    started = time.monotonic()
    failures = asyncio.run(send_events(server.port, "noop", events(), connections, accepted))
    return f"asyncio client, {connections} connections", len(accepted) / (time.monotonic() - started), failures


def drain(server: LaminaProcess) -> tuple[int, float]:
    """Resumes polling and waits until every accepted event ran: (events, seconds)."""
    accepted = int(health(server).get("accepted", 0))
    started = time.monotonic()
    post(server, "resume")
    while health(server).get("succeeded", 0) < accepted:
        time.sleep(0.02)
    return accepted, time.monotonic() - started


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--boto3", type=int, default=2000, help="sequential boto3 invokes")
    parser.add_argument("--client", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        fsyncs = fsync_rate(Path(data), 2.0)
        commits = sqlite_commit_rate(Path(data), 2.0)
        server = LaminaProcess(Path(data) / "lamina").start()
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
            lam.invoke(FunctionName="noop", Payload=b"{}")  # a warm environment for the drain
            post(server, "pause")  # intake alone first: events are committed and stay queued
            seq_rate, seq_ms = sequential_lean(server, args.seconds)
            boto3_rate = sequential_boto3(server, args.boto3)
            if args.client == "wrk":
                command, many_rate, bad = with_wrk(server, args.seconds, args.connections, args.threads)
            else:
                command, many_rate, bad = with_asyncio(server, args.seconds, args.connections)
            drained, drain_s = drain(server)
            live_rate, _ = sequential_lean(server, args.seconds)  # the pollers run each event as it arrives
            committed = health(server).get("accepted", 0)
        finally:
            server.stop(timeout=30)
    print(f"baseline write+fsync loop:            {fsyncs:>9,.0f} /s ({1000 / fsyncs:.3f} ms)")
    print(f"baseline SQLite insert+commit (FULL): {commits:>9,.0f} /s ({1000 / commits:.3f} ms)")
    print(
        f"one sequential client (lean), intake: {seq_rate:>9,.0f} events/s = {seq_rate / commits:.2f}x the SQLite "
        f"loop; latency p50 {statistics.median(seq_ms):.3f} ms, p99 {_pct(seq_ms, 0.99):.3f} ms"
    )
    print(f"one sequential client (lean), drained as it goes: {live_rate:,.0f} events/s = {live_rate / commits:.2f}x")
    print(f"one sequential client (boto3), intake: {boto3_rate:>8,.0f} events/s")
    print(
        f"{args.connections} concurrent clients ({command}): {many_rate:,.0f} events/s = "
        f"{many_rate / commits:.2f}x the SQLite loop (non-202: {bad})"
    )
    print(f"drain (no-op function): {drained:,} events in {drain_s:.1f} s = {drained / drain_s:,.0f} events/s")
    print(f"committed in all: {committed:,}")


if __name__ == "__main__":
    main()
