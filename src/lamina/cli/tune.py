"""`lamina tune FUNCTION`: sweep memory sizes, report duration and cost per size, pick the best (lamina.tune)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from lamina.config import DEFAULT_PORT, DEFAULT_REGION
from lamina.tune import chart, sweep


def add_parser(sub: Any) -> None:
    tune = sub.add_parser("tune", help="power-tune a function: duration and cost per memory size, and the best pick")
    tune.add_argument("function", help="function name or ARN")
    tune.add_argument("--memory", default="128,256,512,1024,1536,3008", help="memory sizes in MB, comma-separated")
    tune.add_argument("--invocations", type=int, default=10, help="invocations per memory size (default 10)")
    tune.add_argument("--payload", default=None, help="the event: JSON text, or @FILE (default {})")
    tune.add_argument("--strategy", choices=sweep.STRATEGIES, default="cost", help="what 'best' means (default cost)")
    tune.add_argument("--parallel", action="store_true", help="invoke each size's invocations concurrently")
    tune.add_argument("--output", choices=("table", "json"), default="table", help="table (default) or json")
    tune.add_argument("--chart", type=Path, default=None, metavar="FILE.html", help="write a self-contained chart")
    tune.add_argument(
        "--endpoint-url", default=f"http://127.0.0.1:{DEFAULT_PORT}", help="Lamina's URL (default the local server)"
    )
    tune.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION))


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config

    try:
        memories = [int(m) for m in str(args.memory).split(",") if m.strip()]
        payload = sweep.payload_bytes(args.payload)
    except ValueError as exc:
        print(f"lamina tune: {exc}", file=sys.stderr)
        return 2
    if not memories or any(m < 128 or m > 10240 for m in memories) or args.invocations < 1:
        print("lamina tune: memory sizes must be 128-10240 MB and --invocations at least 1", file=sys.stderr)
        return 2
    client = boto3.client(
        "lambda",
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(retries={"max_attempts": 2}, read_timeout=910),
    )
    results = sweep.sweep(client, args.function, memories, args.invocations, payload, args.parallel)
    chosen = sweep.best(results, args.strategy)
    if args.chart is not None:
        args.chart.write_text(chart.render(args.function, results, chosen, args.strategy))
    if args.output == "json":
        print(json.dumps(sweep.output(results, chosen, args.strategy), indent=2))
        return 0
    print(f"{'memory':>8} {'p50 ms':>10} {'p99 ms':>10} {'USD / invocation':>18} {'errors':>7}")
    for r in results:
        mark = "  <- best" if r is chosen else ""
        print(f"{r.memory:>6}MB {r.p(0.5):>10.2f} {r.p(0.99):>10.2f} {r.cost_usd:>18.10f} {r.errors:>7}{mark}")
    print(f"best ({args.strategy}): {chosen.memory} MB")
    return 0
