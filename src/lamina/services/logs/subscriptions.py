"""Subscription filters to Lambda functions: the events of a group that match a filter pattern are delivered as
the `awslogs` event (spec/events.md §10): `{"awslogs": {"data": base64(gzip(JSON))}}` where the JSON holds
messageType DATA_MESSAGE, owner, logGroup, logStream, subscriptionFilters and logEvents (id, timestamp,
message, and extractedFields for space-delimited patterns).

Delivery is an async invoke as `logs.amazonaws.com`; as on AWS, PutSubscriptionFilter refuses a function
whose resource policy does not let that principal invoke it from the group. A group has at most two filters.
One delivery per stream per written batch (AWS batches the same way: events of one stream).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lamina.errors import ServiceFault
from lamina.services.logs.engine import LogsEngine, invalid
from lamina.services.logs.filter_pattern import InvalidPattern, Matcher, compile_pattern
from lamina.store.logs_sqlite import Written

log = logging.getLogger(__name__)

MAX_FILTERS = 2
PRINCIPAL = "logs.amazonaws.com"
Submit = Callable[[str, bytes], Awaitable[None]]
Allowed = Callable[[str, str], bool]  # (function ARN, source log group ARN) → may logs invoke it


class SubscriptionFilters:
    def __init__(self, engine: LogsEngine, submit: Submit, allowed: Allowed) -> None:
        self.engine = engine
        self._submit = submit
        self._allowed = allowed
        self._filters: dict[str, dict[str, tuple[dict[str, Any], Matcher]]] = {}  # group → name → filter
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0

    def load(self) -> None:
        for body in self.engine.tables.subscriptions():
            try:
                matcher = compile_pattern(body.get("filterPattern", ""))
            except InvalidPattern:
                continue
            self._filters.setdefault(body["logGroupName"], {})[body["filterName"]] = (body, matcher)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.engine.logs.listen(self._written)

    # -- the API ---------------------------------------------------------------------------------------
    def put(self, group: str, params: dict[str, Any]) -> None:
        self.engine.group(group)
        name = params["filterName"]
        try:
            matcher = compile_pattern(params.get("filterPattern", ""))
        except InvalidPattern as bad:
            raise invalid(str(bad)) from None
        destination = params["destinationArn"]
        parts = destination.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            raise invalid("Lamina delivers subscription filters to Lambda functions only.")
        if not self._allowed(destination, self.engine.group_arn(group) + ":*"):
            raise invalid(
                "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to "
                "execute your function."
            )
        existing = self._filters.get(group, {})
        if name not in existing and len(existing) >= MAX_FILTERS:
            raise ServiceFault("LimitExceededException", "Resource limit exceeded.")
        body: dict[str, Any] = {
            "filterName": name,
            "logGroupName": group,
            "filterPattern": params.get("filterPattern", ""),
            "destinationArn": destination,
            "distribution": params.get("distribution") or "ByLogStream",
            "applyOnTransformedLogs": bool(params.get("applyOnTransformedLogs", False)),
            "creationTime": existing[name][0]["creationTime"] if name in existing else self.engine.now_ms(),
        }
        if params.get("roleArn"):
            body["roleArn"] = params["roleArn"]
        self.engine.tables.put_subscription(group, name, body)
        self._filters.setdefault(group, {})[name] = (body, matcher)

    def delete(self, group: str, name: str) -> None:
        self.engine.group(group)
        if not self.engine.tables.delete_subscription(group, name):
            raise ServiceFault("ResourceNotFoundException", "The specified subscription filter does not exist.")
        self._filters.get(group, {}).pop(name, None)

    def describe(self, group: str, prefix: str) -> list[dict[str, Any]]:
        self.engine.group(group)
        found = [body for name, (body, _) in sorted(self._filters.get(group, {}).items()) if name.startswith(prefix)]
        return found

    def group_deleted(self, group: str) -> None:
        self._filters.pop(group, None)

    # -- delivery --------------------------------------------------------------------------------------
    def _written(self, written: list[Written]) -> None:
        """Called by whoever stored events (the log writer thread, or the loop for PutLogEvents)."""
        wanted = [w for w in written if w.group in self._filters]
        if wanted and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, wanted)

    def _deliver(self, written: list[Written]) -> None:
        for batch in written:
            for name, (body, matcher) in list(self._filters.get(batch.group, {}).items()):
                events = []
                for event in batch.events:
                    match = matcher(event.message)
                    if match is None:
                        continue
                    item: dict[str, Any] = {
                        "id": f"{event.id:056d}",
                        "timestamp": event.timestamp_ms,
                        "message": event.message,
                    }
                    if match.extracted:
                        item["extractedFields"] = match.extracted
                    events.append(item)
                if events:
                    document = {
                        "messageType": "DATA_MESSAGE",
                        "owner": self.engine.account,
                        "logGroup": batch.group,
                        "logStream": batch.stream,
                        "subscriptionFilters": [name],
                        "logEvents": events,
                    }
                    self._spawn(body["destinationArn"], awslogs_event(document))

    def _spawn(self, function_arn: str, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._send(function_arn, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, function_arn: str, payload: bytes) -> None:
        try:
            await self._submit(function_arn, payload)
            self.delivered += 1
        except Exception as exc:  # the function was deleted meanwhile: AWS drops the delivery too
            self.failed += 1
            log.warning("subscription delivery to %s failed: %s", function_arn, exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def awslogs_event(document: dict[str, Any]) -> bytes:
    data = base64.b64encode(gzip.compress(json.dumps(document, separators=(",", ":")).encode())).decode()
    return json.dumps({"awslogs": {"data": data}}).encode()
