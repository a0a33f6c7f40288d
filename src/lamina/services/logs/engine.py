"""CloudWatch Logs' behaviour: log groups, streams, events, retention, tags.

Data lives in the logs tables (store/logs_sqlite.py); function output reaches them through the executor's
`LogStore` writer, PutLogEvents directly (committed before the answer). Both tell `on_written` listeners
(subscription filters, live tail sessions) what was stored.

Rules cited from AWS's PutLogEvents reference: events of one call in chronological order, spanning at most
24 hours, at most 10,000 events and 1,048,576 bytes (each event's UTF-8 message plus 26 bytes); events more
than 2 hours in the future are rejected as too new, older than 14 days (or than the group's retention) as
too old / expired — rejected events are skipped, the rest stored, and `rejectedLogEventsInfo` says which.

Retention: a sweeper on the project clock deletes events older than the group's `retentionInDays`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.logs.store import LogStore
from lamina.store.logs_sqlite import GroupRow, LogTables, StreamRow, Written

log = logging.getLogger(__name__)

RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
DAY_MS = 86_400_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes AWS adds to each event's message when sizing a batch
TOO_NEW_MS = 2 * 3_600_000
TOO_OLD_MS = 14 * DAY_MS
SWEEP_INTERVAL = 60.0  # seconds of the project clock between retention sweeps
MAX_TAGS = 50


def not_found_group() -> ServiceFault:
    return ServiceFault("ResourceNotFoundException", "The specified log group does not exist.")


def not_found_stream() -> ServiceFault:
    return ServiceFault("ResourceNotFoundException", "The specified log stream does not exist.")


def invalid(message: str) -> ServiceFault:
    return ServiceFault("InvalidParameterException", message)


class LogsEngine:
    def __init__(self, logs: LogStore, clock: Clock, region: str, account: str) -> None:
        self.logs = logs
        self.tables: LogTables = logs.tables
        self.clock = clock
        self.region = region
        self.account = account
        self._sweeper: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[list[Written]], None]] = []
        self.swept_events = 0

    def now_ms(self) -> int:
        return int(self.clock.time() * 1000)

    def group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._sweeper = periodic.every(self.clock, SWEEP_INTERVAL, self.sweep, "log retention sweep failed")

    async def close(self) -> None:
        await periodic.cancel(self._sweeper)

    def sweep(self) -> int:
        """Delete every group's events older than its retention; how many went."""
        now = self.now_ms()
        gone = 0
        for group in self.tables.groups():
            if group.retention_days is not None:
                gone += self.tables.expire(group.name, now - group.retention_days * DAY_MS)
        self.swept_events += gone
        return gone

    # -- groups ----------------------------------------------------------------------------------------
    def resolve_group(self, name: str | None, identifier: str | None = None) -> str:
        """The group named by `logGroupName` or `logGroupIdentifier` (a name or an ARN)."""
        if name and identifier:
            raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        chosen = name or identifier
        if not chosen:
            raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
        if chosen.startswith("arn:"):
            parts = chosen.split(":", 6)
            if len(parts) < 7 or parts[5] != "log-group":
                raise invalid("Invalid log group ARN.")
            chosen = parts[6].removesuffix(":*")
        return chosen

    def group(self, name: str) -> GroupRow:
        found = self.tables.group(name)
        if found is None:
            raise not_found_group()
        return found

    def create_group(self, name: str, tags: dict[str, str] | None, log_class: str | None) -> None:
        tags = dict(tags or {})
        _check_tags(tags)
        if not self.tables.create_group(name, self.now_ms(), tags, log_class or "STANDARD"):
            raise ServiceFault("ResourceAlreadyExistsException", "The specified log group already exists")

    def delete_group(self, name: str) -> None:
        if not self.tables.delete_group(name):
            raise not_found_group()

    def set_retention(self, name: str, days: int | None) -> None:
        self.group(name)
        if days is not None and days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{allowed}]"
            )
        self.tables.set_retention(name, days)

    def tag(self, name: str, tags: dict[str, str]) -> None:
        merged = {**self.group(name).tags, **tags}
        _check_tags(merged)
        self.tables.set_tags(name, merged)

    def untag(self, name: str, keys: list[str]) -> None:
        tags = self.group(name).tags
        self.tables.set_tags(name, {k: v for k, v in tags.items() if k not in keys})

    # -- streams ---------------------------------------------------------------------------------------
    def stream(self, group: str, name: str) -> StreamRow:
        self.group(group)
        found = self.tables.stream(group, name)
        if found is None:
            raise not_found_stream()
        return found

    def create_stream(self, group: str, name: str) -> None:
        self.group(group)
        if ":" in name or "*" in name:
            raise invalid(f"Invalid log stream name: {name}")
        if not self.tables.create_stream(group, name, self.now_ms()):
            raise ServiceFault("ResourceAlreadyExistsException", "The specified log stream already exists")

    def delete_stream(self, group: str, name: str) -> None:
        self.group(group)
        if not self.tables.delete_stream(group, name):
            raise not_found_stream()

    # -- events ----------------------------------------------------------------------------------------
    def put_events(self, group: str, stream: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """PutLogEvents (see the module docstring for the rules); committed before it returns."""
        row = self.stream(group, stream)
        size = 0
        for event in events:
            size += len(event["message"].encode("utf-8", "replace")) + EVENT_OVERHEAD
        if size > MAX_BATCH_BYTES:
            raise invalid(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
        stamps = [int(event["timestamp"]) for event in events]
        if any(later < earlier for earlier, later in itertools.pairwise(stamps)):
            raise invalid("Log events in a single PutLogEvents request must be in chronological order.")
        if stamps and stamps[-1] - stamps[0] > DAY_MS:
            raise invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        now = self.now_ms()
        retention = self.group(group).retention_days
        rejected: dict[str, int] = {}
        accepted: list[tuple[int, str]] = []
        for index, (ts, event) in enumerate(zip(stamps, events, strict=True)):
            if ts > now + TOO_NEW_MS:
                rejected.setdefault("tooNewLogEventStartIndex", index)
                continue
            if retention is not None and ts < now - retention * DAY_MS:
                rejected["expiredLogEventEndIndex"] = index
                continue
            if ts < now - TOO_OLD_MS:
                rejected["tooOldLogEventEndIndex"] = index
                continue
            accepted.append((ts, event["message"]))
        written = self.tables.append([(group, stream, accepted)], now, create=False) if accepted else []
        if written:
            self.logs.notify(written)
        result: dict[str, Any] = {"nextSequenceToken": f"{row.id:020d}{now:036d}"}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise invalid("A resource can have no more than 50 tags.")
