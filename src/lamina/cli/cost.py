"""`lamina cost`: what each function's invocations would cost on AWS Lambda, from their REPORT lines.

Talks to Lamina only through its APIs (boto3 against `--endpoint-url`): ListFunctions for the architecture and
ephemeral storage, FilterLogEvents on each function's log group for the REPORT lines (text or JSON format) of
the time range, which give each invocation's billed duration (1 ms granularity, init included) and memory
size. Prices are the package's pricing.json (us-east-1, first tier). `costUsd` is the on-demand price without
the free tier; `costAfterFreeTierUsd` takes the monthly free tier (requests and GB-seconds, account-wide) off,
shared among functions in proportion to their use.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from lamina.config import DEFAULT_PORT, DEFAULT_REGION

_TEXT = re.compile(r"^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB")
PATTERN = '?"REPORT RequestId" ?"platform.report"'


@dataclass
class Usage:
    name: str
    architecture: str
    ephemeral_mb: int
    requests: int = 0
    gb_seconds: float = 0.0
    ephemeral_gb_seconds: float = 0.0

    def add(self, billed_ms: int, memory_mb: int) -> None:
        self.requests += 1
        seconds = billed_ms / 1000.0
        self.gb_seconds += seconds * memory_mb / 1024.0
        extra = max(0, self.ephemeral_mb - PRICES["freeEphemeralMb"])
        self.ephemeral_gb_seconds += seconds * extra / 1024.0


PRICES: dict[str, Any] = json.loads(resources.files("lamina.cli").joinpath("pricing.json").read_text())


def add_parser(sub: Any) -> None:
    cost = sub.add_parser("cost", help="per function requests, GB-seconds and AWS Lambda price over a time range")
    cost.add_argument(
        "--endpoint-url",
        default=f"http://localhost:{DEFAULT_PORT}",
        help=f"the Lamina to ask (default http://localhost:{DEFAULT_PORT})",
    )
    cost.add_argument("--region", default=DEFAULT_REGION)
    cost.add_argument("--start-time", help="ISO 8601 (default: 30 days before the end)")
    cost.add_argument("--end-time", help="ISO 8601 (default: now)")
    cost.add_argument("--function", action="append", help="only these functions (repeatable)")
    cost.add_argument("--output", choices=("table", "json"), default="table")


def _when(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_report(message: str) -> tuple[int, int] | None:
    """(billed ms, memory MB) of a REPORT line or a platform.report record; None for anything else."""
    m = _TEXT.match(message)
    if m:
        return int(m.group(1)), int(m.group(2))
    if "platform.report" in message:
        try:
            record = json.loads(message)
            metrics = record["record"]["metrics"]
            if record.get("type") == "platform.report":
                return int(metrics["billedDurationMs"]), int(metrics["memorySizeMB"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


def usage_of(fn: dict[str, Any]) -> Usage:
    """No use yet of the function ListFunctions (or GetFunctionConfiguration) describes as `fn`."""
    return Usage(
        fn["FunctionName"],
        (fn.get("Architectures") or ["x86_64"])[0],
        (fn.get("EphemeralStorage") or {}).get("Size", 512),
    )


def log_group_of(fn: dict[str, Any]) -> str:
    return (fn.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{fn['FunctionName']}"


def collect(clients: tuple[Any, Any], start: datetime, end: datetime, only: list[str] | None) -> list[Usage]:
    lam, logs = clients
    usages = []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            name = fn["FunctionName"]
            if only and name not in only:
                continue
            usage = usage_of(fn)
            try:
                pages = logs.get_paginator("filter_log_events").paginate(
                    logGroupName=log_group_of(fn),
                    startTime=int(start.timestamp() * 1000),
                    endTime=int(end.timestamp() * 1000),
                    filterPattern=PATTERN,
                )
                for events in pages:
                    for event in events["events"]:
                        found = parse_report(event["message"])
                        if found is not None:
                            usage.add(*found)
            except logs.exceptions.ResourceNotFoundException:
                pass  # never invoked: no log group yet
            usages.append(usage)
    return sorted(usages, key=lambda u: u.name)


def price(usages: list[Usage]) -> list[dict[str, Any]]:
    free = PRICES["freeTier"]
    total_requests = sum(u.requests for u in usages)
    total_gbs = sum(u.gb_seconds for u in usages)
    request_share = min(1.0, free["requests"] / total_requests) if total_requests else 1.0
    gbs_share = min(1.0, free["gbSeconds"] / total_gbs) if total_gbs else 1.0
    out = []
    for u in usages:
        gbs_price = PRICES["gbSecondPrice"][u.architecture]
        ephemeral = u.ephemeral_gb_seconds * PRICES["ephemeralGbSecondPrice"]
        cost = u.requests * PRICES["requestPrice"] + u.gb_seconds * gbs_price + ephemeral
        after = (
            u.requests * (1 - request_share) * PRICES["requestPrice"] + u.gb_seconds * (1 - gbs_share) * gbs_price
        ) + ephemeral
        out.append(
            {
                "name": u.name,
                "architecture": u.architecture,
                "requests": u.requests,
                "gbSeconds": round(u.gb_seconds, 6),
                "ephemeralGbSeconds": round(u.ephemeral_gb_seconds, 6),
                "costUsd": round(cost, 10),
                "costAfterFreeTierUsd": round(after, 10),
            }
        )
    return out


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    end = _when(args.end_time, datetime.now(UTC))
    start = _when(args.start_time, end - timedelta(days=30))
    if start >= end:
        print("lamina cost: error: --start-time must be before --end-time", file=sys.stderr)
        return 2
    make = {
        "endpoint_url": args.endpoint_url,
        "region_name": args.region,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"total_max_attempts": 3}),
    }
    try:
        usages = collect((boto3.client("lambda", **make), boto3.client("logs", **make)), start, end, args.function)
    except (BotoCoreError, ClientError) as exc:
        print(f"lamina cost: error: {exc}", file=sys.stderr)
        return 1
    functions = price(usages)
    totals = {
        "requests": sum(f["requests"] for f in functions),
        "gbSeconds": round(sum(f["gbSeconds"] for f in functions), 6),
        "costUsd": round(sum(f["costUsd"] for f in functions), 10),
        "costAfterFreeTierUsd": round(sum(f["costAfterFreeTierUsd"] for f in functions), 10),
    }
    if args.output == "json":
        document = {
            "functions": functions,
            "totals": totals,
            "startTime": start.isoformat(),
            "endTime": end.isoformat(),
            "pricing": {k: PRICES[k] for k in ("region", "currency", "requestPrice", "gbSecondPrice")},
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"Lambda cost {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({PRICES['region']} prices)")
    header = f"{'FUNCTION':<40} {'ARCH':<7} {'REQUESTS':>10} {'GB-SECONDS':>14} {'COST USD':>14} {'AFTER FREE':>14}"
    print(header)
    for f in functions:
        print(
            f"{f['name']:<40} {f['architecture']:<7} {f['requests']:>10} {f['gbSeconds']:>14.3f} "
            f"{f['costUsd']:>14.8f} {f['costAfterFreeTierUsd']:>14.8f}"
        )
    print(
        f"{'TOTAL':<40} {'':<7} {totals['requests']:>10} {totals['gbSeconds']:>14.3f} "
        f"{totals['costUsd']:>14.8f} {totals['costAfterFreeTierUsd']:>14.8f}"
    )
    return 0
