"""Kinesis: PutRecords throughput, PutRecords → function end-to-end records/s, and put → function latency.

    .venv/bin/python bench/kinesis_bench.py [--records 50000] [--shards 4] [--threads 8] [--latency-samples 200]
        [--limits off|on] [--moto]

`--moto` puts the same records into moto_server (installed once into .cache/moto by moto_baseline.py) after
Lamina's run and prints the PutRecords ratio; moto cannot run functions, so there is no end-to-end baseline.

With `--limits on` (AWS's quotas: 1,000 records/s and 1 MiB/s per shard) the PutRecords rate is bounded by the
shards (4 shards: 4,000 records/s); refused records are put again, as a producer does. The default, off,
measures Lamina itself.

1. PutRecords: `--threads` boto3 clients put 500-record batches (100-byte records, random partition keys)
   into a `--shards` stream; records/s over the whole put.
2. End to end: a mapping (TRIM_HORIZON, BatchSize 500, ParallelizationFactor 1) from that preloaded stream to a
   Python function that returns at once; records/s from Enabled until the mapping has handed every record
   to the function (the counters in GET /health, streamMappings).
3. Latency: one PutRecord at a time (the put time in the data) into a 1-shard stream mapped from LATEST; the
   function POSTs arrival minus put time to a local collector; p50 and p99 over `--latency-samples`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

FAST = "def handler(event, context):\n    return None\n"
LATENCY = """
import base64, json, os, time, urllib.request

def handler(event, context):
    now = time.time()
    gaps = [now - float(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
    req = urllib.request.Request(os.environ["COLLECTOR"], data=json.dumps(gaps).encode())
    urllib.request.urlopen(req, timeout=5).read()
"""


def put_all(client_of: Callable[[], Any], name: str, total: int, threads: int) -> tuple[float, int]:
    """Seconds to put `total` records, and how many puts were refused over the throughput limits (each one put
    again, as a producer does, until every record is stored)."""
    refused = [0]

    def put(count: int) -> None:
        client: Any = client_of()
        payload = os.urandom(50).hex().encode()
        for start in range(0, count, 500):
            n = min(500, count - start)
            records = [{"Data": payload, "PartitionKey": uuid.uuid4().hex} for _ in range(n)]
            while records:
                got = client.put_records(StreamName=name, Records=records)
                records = [r for r, out in zip(records, got["Records"], strict=True) if "ErrorCode" in out]
                refused[0] += len(records)
                if records:
                    time.sleep(0.05)

    share = total // threads
    workers = [threading.Thread(target=put, args=(share,)) for _ in range(threads)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.monotonic() - t0, refused[0]


def health(server: LaminaProcess) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "/health") as r:
        data: dict[str, Any] = json.loads(r.read())
    return data


def function(lam: Any, name: str, code: str, env: dict[str, str] | None = None) -> None:
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})}, Environment={"Variables": env or {}},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument(
        "--limits", choices=("on", "off"), default="off", help="AWS's throughput limits (--kinesis-limits)"
    )
    parser.add_argument("--moto", action="store_true", help="also PutRecords into moto_server in the same run")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    total = args.records // args.threads * args.threads
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data), "--kinesis-limits", args.limits).start()
        try:
            lam, kinesis = server.client(), server.client("kinesis")
            kinesis.create_stream(StreamName="bench", ShardCount=args.shards)
            elapsed, refused = put_all(lambda: server.client("kinesis"), "bench", total, args.threads)
            lamina_rate = total / elapsed
            print(f"PutRecords: {total} records in {elapsed:.2f} s = {total / elapsed:,.0f} records/s "
                  f"({args.threads} clients, {args.shards} shards, 500 per call, limits {args.limits}: "
                  f"{refused} refused and put again)")  # fmt: skip
            function(lam, "bench", FAST)
            arn = kinesis.describe_stream_summary(StreamName="bench")["StreamDescriptionSummary"]["StreamARN"]
            esm = lam.create_event_source_mapping(
                EventSourceArn=arn, FunctionName="bench", BatchSize=500, StartingPosition="TRIM_HORIZON"
            )
            while lam.get_event_source_mapping(UUID=esm["UUID"])["State"] != "Enabled":
                time.sleep(0.01)
            start = time.monotonic()
            while health(server)["streamMappings"].get(esm["UUID"], {}).get("records", 0) < total:
                time.sleep(0.05)
            elapsed = time.monotonic() - start
            print(f"PutRecords -> function: {total} records in {elapsed:.2f} s = {total / elapsed:,.0f} records/s "
                  f"(BatchSize 500, {args.shards} shards)")  # fmt: skip
            latency(server, lam, kinesis, args.latency_samples)
        finally:
            server.stop()
    if args.moto:
        moto_puts(total, args.shards, args.threads, lamina_rate)


def moto_puts(total: int, shards: int, threads: int, lamina_rate: float) -> None:
    """The same PutRecords phase against moto_server (moto cannot run the function: no end-to-end figure)."""
    import boto3
    from moto_baseline import moto_server

    with moto_server() as port:

        def client() -> Any:
            return boto3.client("kinesis", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip

        client().create_stream(StreamName="bench", ShardCount=shards)
        elapsed, _ = put_all(client, "bench", total, threads)
    print(f"moto_server PutRecords: {total} records in {elapsed:.2f} s = {total / elapsed:,.0f} records/s "
          f"(same clients and stream); lamina / moto_server {lamina_rate / (total / elapsed):.1f}x")  # fmt: skip


def latency(server: LaminaProcess, lam: Any, kinesis: Any, samples: int) -> None:
    gaps: list[float] = []
    got = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            gaps.extend(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            got.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    collector = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    try:
        function(lam, "latency", LATENCY, {"COLLECTOR": f"http://127.0.0.1:{collector.server_address[1]}/"})
        kinesis.create_stream(StreamName="latency", ShardCount=1)
        arn = kinesis.describe_stream_summary(StreamName="latency")["StreamDescriptionSummary"]["StreamARN"]
        esm = lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="latency", BatchSize=10, StartingPosition="LATEST"
        )
        while lam.get_event_source_mapping(UUID=esm["UUID"])["State"] != "Enabled":
            time.sleep(0.01)
        time.sleep(1.5)  # the shard's poller has taken its LATEST position
        for i in range(samples):
            time.sleep(0.005 + (i % 10) * 0.01)  # the poller is idle, not just back from the last batch
            got.clear()
            kinesis.put_record(StreamName="latency", Data=repr(time.time()).encode(), PartitionKey="k")
            got.wait(10)
        ms = sorted(g * 1000 for g in gaps)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"put -> function latency over {len(ms)} records: p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms")
    finally:
        collector.shutdown()


if __name__ == "__main__":
    main()
