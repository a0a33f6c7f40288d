"""The cost view of one function: what `lamina cost` reports for it (requests, GB-seconds, USD at the package's
pricing.json), computed by the same code (lamina/cli/cost.py) from the same REPORT lines, read here through the
in-process FilterLogEvents instead of boto3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lamina.cli.cost import PATTERN, PRICES, log_group_of, parse_report, price, usage_of
from lamina.errors import ServiceFault

Calls = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_PAGES = 200  # FilterLogEvents pages read for one view (10,000 events each at most)


async def function_cost(calls: Calls, function: str, start: float, end: float) -> dict[str, Any]:
    """The function's use and price between `start` and `end` (epoch seconds)."""
    fn = await calls("lambda", "GetFunctionConfiguration", {"FunctionName": function})
    usage = usage_of(fn)
    params: dict[str, Any] = {
        "logGroupName": log_group_of(fn),
        "startTime": int(start * 1000),
        "endTime": int(end * 1000),
        "filterPattern": PATTERN,
    }
    try:
        for _ in range(MAX_PAGES):
            page = await calls("logs", "FilterLogEvents", params)
            for event in page.get("events", []):
                found = parse_report(event["message"])
                if found is not None:
                    usage.add(*found)
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]
    except ServiceFault as exc:
        if exc.code != "ResourceNotFoundException":
            raise  # else never invoked: no log group yet
    (priced,) = price([usage])
    return {
        **priced,
        "startTime": start,
        "endTime": end,
        "pricing": {k: PRICES[k] for k in ("region", "currency", "requestPrice", "gbSecondPrice")},
    }
