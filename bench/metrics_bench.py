"""CloudWatch metrics: what they cost the invoke path, and how fast they are read.

* warm invoke throughput and p50 latency of a no-op Python handler with the AWS/Lambda metrics on and off
  (`lamina serve --lambda-metrics on|off`), two servers in the same run, measured in alternating rounds so
  load from elsewhere falls on both alike;
* GetMetricStatistics (boto3, through the server) over a database holding 1 million 1-minute points
  (50 series of 14 days), each query reading one series' 14 days (20,160 points): the basic statistics, and
  ExtendedStatistics p50/p99 (each point holding a histogram of `--spread` buckets, as a busy function's Duration
  minute does, merged on read);
* the invoke path's hook alone (LambdaMetrics.invoked, what each invocation pays), in-process: the figure that
  stays meaningful when the machine is too busy for the throughput comparison to be within noise.

  .venv/bin/python bench/metrics_bench.py [--rounds 4] [--seconds 3] [--points 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from invoke_bench import LeanClient, _pct, _request, _zip
from tests.server import ROLE, LaminaProcess

from lamina.clock import SystemClock
from lamina.services.cloudwatch.engine import MetricsEngine
from lamina.services.cloudwatch.lambda_metrics import LambdaMetrics
from lamina.store.metric_distribution import Distribution
from lamina.store.metrics_sqlite import Bucket, MetricTables
from lamina.types import VersionSpec


def _rate(port: int, name: str, seconds: float) -> tuple[float, list[float]]:
    client = LeanClient(port)
    request = _request(name)
    samples = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t = time.perf_counter()
        client.call(request)
        samples.append((time.perf_counter() - t) * 1000)
    client.close()
    return len(samples) / seconds, samples


def invoke_overhead(rounds: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        servers = {
            "on": LaminaProcess(Path(a), "--lambda-metrics", "on").start(),
            "off": LaminaProcess(Path(b), "--lambda-metrics", "off").start(),
        }
        try:
            for server in servers.values():
                server.client().create_function(
                    FunctionName="noop", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": _zip()},
                )  # fmt: skip
                _rate(server.port, "noop", 1.0)  # warm
            rates: dict[str, list[float]] = {"on": [], "off": []}
            latencies: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(rounds):
                for mode in ("on", "off"):
                    rate, samples = _rate(servers[mode].port, "noop", seconds)
                    rates[mode].append(rate)
                    latencies[mode].extend(samples)
            for mode in ("on", "off"):
                print(
                    f"warm invoke, metrics {mode:>3}: {statistics.median(rates[mode]):8.0f} invokes/s (median of "
                    f"{rounds} rounds), p50 {_pct(latencies[mode], 0.5):.3f} ms, "
                    f"p99 {_pct(latencies[mode], 0.99):.3f} ms"
                )
            ratio = statistics.median(rates["on"]) / statistics.median(rates["off"])
            print(f"throughput with metrics / without: {ratio:.3f}")
            cw = servers["on"].client("cloudwatch")
            now = datetime.now(UTC)
            got = cw.get_metric_statistics(
                Namespace="AWS/Lambda", MetricName="Invocations",
                Dimensions=[{"Name": "FunctionName", "Value": "noop"}],
                StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1), Period=3600 + 120,
                Statistics=["Sum"],
            )  # fmt: skip
            counted = sum(p["Sum"] for p in got["Datapoints"])
            print(f"AWS/Lambda Invocations counted by the metrics-on server: {counted:.0f}")
        finally:
            for server in servers.values():
                server.stop()


def _point(series: int, minute: int, spread: int) -> Bucket:
    """A minute of `spread` values around 100 ms, in as many histogram buckets (a busy function's Duration)."""
    values = [100.0 * 1.03 ** (j + minute % 7) for j in range(spread)]
    histogram = Distribution(exact=False)
    for v in values:
        histogram.add(v)
    dims = (("Series", str(series)),)
    numbers = (spread, sum(values), values[0], values[-1])
    return Bucket("Bench", "Latency", dims, minute, "Milliseconds", *numbers, histogram)


def read_speed(points: int, queries: int, spread: int) -> None:
    minutes = 14 * 24 * 60
    with tempfile.TemporaryDirectory() as d:
        data = Path(d)
        tables = MetricTables(data / "lamina.db", "OFF")
        now_minute = int(time.time() // 60)
        first = now_minute - minutes
        written, series = 0, 0
        t = time.perf_counter()
        while written < points:
            n = min(minutes, points - written)
            batch = [_point(series, first + i, spread) for i in range(n)]
            tables.add(batch, now_minute * 60_000)
            written += n
            series += 1
        tables.close()
        full = written // minutes  # series holding all 14 days (the last may hold fewer)
        print(f"stored {written:,} points in {series} series in {time.perf_counter() - t:.1f} s")
        server = LaminaProcess(data).start()
        try:
            cw = server.client("cloudwatch")
            end = datetime.fromtimestamp(now_minute * 60, UTC)
            start = end - timedelta(days=14)
            timings = []
            for q in range(queries):
                t = time.perf_counter()
                got = cw.get_metric_statistics(
                    Namespace="Bench", MetricName="Latency", Dimensions=[{"Name": "Series", "Value": str(q % full)}],
                    StartTime=start, EndTime=end, Period=3600, Statistics=["Sum", "Average", "Maximum", "SampleCount"],
                )  # fmt: skip
                timings.append((time.perf_counter() - t) * 1000)
                assert len(got["Datapoints"]) == 336, len(got["Datapoints"])
            print(
                f"GetMetricStatistics, 14 days of one series (20,160 points -> 336 hourly datapoints) "
                f"among {written:,}: "
                f"p50 {_pct(timings, 0.5):.1f} ms, p99 {_pct(timings, 0.99):.1f} ms, max {max(timings):.1f} ms "
                f"({queries} queries, boto3 round trip included)"
            )
            hour = end.replace(minute=0)
            for label, (begin, finish) in {
                "unaligned": (start, end),
                "hour-aligned": (hour - timedelta(days=14), hour),
            }.items():
                timings = []
                for q in range(queries):
                    t = time.perf_counter()
                    got = cw.get_metric_statistics(
                        Namespace="Bench", MetricName="Latency",
                        Dimensions=[{"Name": "Series", "Value": str(q % full)}],
                        StartTime=begin, EndTime=finish, Period=3600, ExtendedStatistics=["p50", "p99"],
                    )  # fmt: skip
                    timings.append((time.perf_counter() - t) * 1000)
                    assert len(got["Datapoints"]) >= 335, len(got["Datapoints"])
                    assert all("p99" in p["ExtendedStatistics"] for p in got["Datapoints"])
                print(
                    f"GetMetricStatistics ExtendedStatistics p50+p99 over 14 days ({label}; histograms of {spread} "
                    f"buckets a minute, merged per hour): p50 {_pct(timings, 0.5):.1f} ms, "
                    f"p99 {_pct(timings, 0.99):.1f} ms, max {max(timings):.1f} ms ({queries} queries)"
                )
        finally:
            server.stop()


def hook_cost(calls: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        clock = SystemClock()
        engine = MetricsEngine(MetricTables(Path(d) / "lamina.db", "OFF"), clock)
        hooks = LambdaMetrics(engine, clock, lambda _arn: 1, lambda _region: 1)
        arn = "arn:aws:lambda:us-east-1:000000000000:function:noop"
        spec = VersionSpec("noop", arn, "$LATEST", "python3.12", "app.handler", Path(d))
        t = time.perf_counter()
        for _ in range(calls):
            hooks.invoked(spec, arn, 1.5, None, False)
        per_call = (time.perf_counter() - t) / calls * 1e6
        t = time.perf_counter()
        engine.flush()
        flush_ms = (time.perf_counter() - t) * 1000
        engine.tables.close()
    print(f"invoke-path hook: {per_call:.2f} us per invocation ({calls:,} calls); a flush of them {flush_ms:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--spread", type=int, default=20, help="histogram buckets per stored point")
    args = parser.parse_args()
    hook_cost(200_000)
    read_speed(args.points, args.queries, args.spread)
    invoke_overhead(args.rounds, args.seconds)


if __name__ == "__main__":
    main()
