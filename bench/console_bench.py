"""The console's function list with 1,000 functions: server time of the list, search and function page (issue 18:
under 200 ms; no request holding the event loop over 50 ms).

    .venv/bin/python bench/console_bench.py [--functions 1000] [--requests 50]

Creates the functions through boto3, then times sequential requests over one keep-alive connection on the
loopback, so each figure is the server's time plus one hop:
- list page: GET /console/api/functions?start=500&limit=25 (one pass over the names, one page converted, one
  GetMetricData for the page's invocations and errors; the timed page's functions are invoked first, so the
  metric queries find data);
- search: the same with a name filter (`q=bench-007`, 100 matches);
- function page: what the page asks first (GetFunction through /console/api/call, then the handler source).
The server process's CPU time per request (utime + stime over the loop) is printed too: other load on the machine
does not inflate it. While each loop runs, a second connection asks for a tiny static asset every 5 ms; the
longest it waits is an upper bound of how long one console request held the event loop (plus scheduling noise).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
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


class StallProbe:
    """A second connection asking for a tiny static asset every 5 ms; `stop()` gives its longest wait."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._done = threading.Event()
        self.longest = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self._port)
        while not self._done.wait(0.005):
            started = time.perf_counter()
            conn.request("GET", "/console/static/icon.svg")
            conn.getresponse().read()
            self.longest = max(self.longest, time.perf_counter() - started)
        conn.close()

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.longest


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
            target = shown[0]
            timed: list[tuple[str, list[tuple[str, str, bytes | None]]]] = [
                ("list page", [("GET", "/console/api/functions?start=500&limit=25", None)]),
                ("search", [("GET", "/console/api/functions?q=bench-007&limit=25", None)]),
                (
                    "fn page",
                    [
                        ("POST", "/console/api/call/lambda/GetFunction", json.dumps({"FunctionName": target}).encode()),
                        ("GET", f"/console/api/functions/{target}/source", None),
                    ],
                ),
            ]
            for label, steps in timed:
                samples = []
                most_cpu = 0.0  # the most CPU one request took (in clock ticks, 10 ms): bounds its loop hold
                probe = StallProbe(server.port)
                cpu = cpu_seconds(pid)
                for _ in range(args.requests):
                    before = cpu_seconds(pid)
                    started = time.perf_counter()
                    for method, path, body in steps:
                        headers = {"Content-Type": "application/json"} if body is not None else {}
                        conn.request(method, path, body=body, headers=headers)
                        response = conn.getresponse()
                        answer = json.loads(response.read())
                        assert response.status == 200, answer
                    samples.append(time.perf_counter() - started)
                    most_cpu = max(most_cpu, cpu_seconds(pid) - before)
                cpu_ms = (cpu_seconds(pid) - cpu) / args.requests * 1000
                stall = probe.stop()
                extra = ""
                if "functions" in answer:
                    counted = sum(f.get("invocations", 0) for f in answer["functions"])
                    extra = f" (total {answer['total']}, invocations shown {counted:.0f})"
                print(
                    f"{label:10s} {args.functions} functions{extra}: {percentiles(samples)}  "
                    f"server CPU {cpu_ms:.1f} ms a request (most {most_cpu * 1000:.0f})  "
                    f"longest probe wait {stall * 1000:.1f} ms"
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
