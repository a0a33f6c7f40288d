"""The console's function list with 1,000 functions: time of one list page (issue 18: under 200 ms).

    .venv/bin/python bench/console_bench.py [--functions 1000] [--requests 50]

Creates the functions through boto3, then times sequential GET /console/api/functions?start=..&limit=25 (the
page's call: every function read through ListFunctions, filtered, sorted, one page kept) and the same with a
name filter, over one keep-alive connection on the loopback, so the figure is the server's time plus one hop.
Each list page also asks CloudWatch (one GetMetricData for the page) for the last hour's invocations and errors;
the functions of the timed page are invoked first, so those queries find data. The server process's CPU time per
request (utime + stime over the loop) is printed too: other load on the machine does not inflate it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess, cpu_seconds


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  max {ordered[-1] * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = LaminaProcess(Path(folder)).start()
        try:
            client = server.client()
            package = make_zip()

            def create(i: int) -> None:
                client.create_function(
                    FunctionName=f"bench-{i:05d}",
                    Runtime="python3.12",
                    Role=ROLE,
                    Handler="app.handler",
                    Code={"ZipFile": package},
                )

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(args.functions)))
            shown = [f"bench-{i:05d}" for i in range(500, min(args.functions, 525))]
            for name in shown:
                client.get_waiter("function_active_v2").wait(FunctionName=name)
                for _ in range(3):
                    client.invoke(FunctionName=name, Payload=b"{}")
            time.sleep(1.5)  # the metrics flush (every second) has run
            assert server.proc is not None
            pid = server.proc.pid
            conn = http.client.HTTPConnection("127.0.0.1", server.port)
            for label, query in (("list page", "start=500&limit=25"), ("filtered", "q=bench-007&limit=25")):
                samples = []
                cpu = cpu_seconds(pid)
                for _ in range(args.requests):
                    started = time.perf_counter()
                    conn.request("GET", f"/console/api/functions?{query}")
                    body = json.loads(conn.getresponse().read())
                    samples.append(time.perf_counter() - started)
                cpu_ms = (cpu_seconds(pid) - cpu) / args.requests * 1000
                counted = sum(f.get("invocations", 0) for f in body["functions"])
                print(
                    f"{label:10s} {args.functions} functions (total {body['total']}, invocations shown {counted:.0f}): "
                    f"{percentiles(samples)}  server CPU {cpu_ms:.1f} ms a request"
                )
            # the list's metric columns alone: the one GetMetricData a page makes (2 queries a function)
            cloudwatch = server.client("cloudwatch")
            queries = [
                {
                    "Id": f"{kind[0].lower()}{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Lambda",
                            "MetricName": kind,
                            "Dimensions": [{"Name": "FunctionName", "Value": name}],
                        },
                        "Period": 3600,
                        "Stat": "Sum",
                    },
                }
                for i, name in enumerate(shown)
                for kind in ("Invocations", "Errors")
            ]
            samples = []
            cpu = cpu_seconds(pid)
            for _ in range(args.requests):
                started = time.perf_counter()
                now = time.time()
                cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=now - 3600, EndTime=now)
                samples.append(time.perf_counter() - started)
            cpu_ms = (cpu_seconds(pid) - cpu) / args.requests * 1000
            label = f"GetMetricData, {len(queries)} queries"
            print(f"{'metrics':10s} {label}: {percentiles(samples)}  server CPU {cpu_ms:.1f} ms a request")
            samples = []
            for _ in range(args.requests):
                started = time.perf_counter()
                conn.request("GET", "/console/")
                conn.getresponse().read()
                samples.append(time.perf_counter() - started)
            print(f"{'page html':10s} {percentiles(samples)}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
