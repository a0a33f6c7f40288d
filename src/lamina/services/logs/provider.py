"""The CloudWatch Logs API (json 1.1 protocol, `Logs_20140328.*`): wire operations over the logs engine.

Tokens are opaque to clients and stable across restarts:

* GetLogEvents: `f/<56 digits>/s` and `b/<56 digits>/s`, a (timestamp, id) position in the stream. A forward
  token points after the last event returned, a backward token before the first. Asked with a token that has
  nothing beyond it, the answer is empty and carries the same token back (how clients know they are at the end).
* FilterLogEvents: the (timestamp, id) of the last event returned; only given while more may match.
* DescribeLogGroups: the last group name; DescribeLogStreams: an offset into the chosen order.
"""

from __future__ import annotations

import base64
from typing import Any

from lamina.services.logs.engine import LogsEngine, invalid
from lamina.services.logs.filter_pattern import InvalidPattern, compile_pattern
from lamina.services.logs.live_tail import LiveTails
from lamina.services.logs.subscriptions import SubscriptionFilters
from lamina.store.logs_sqlite import EventRow, GroupRow
from lamina.types import CallContext

MAX_EVENTS = 10_000
MAX_RESPONSE_BYTES = 1_048_576
MAX_SCANNED = 200_000  # events one FilterLogEvents call looks at before answering with a nextToken
_BAD_TOKEN = "The specified nextToken is invalid."


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid(_BAD_TOKEN) from None


def _position_token(direction: str, ts: int, event_id: int) -> str:
    return f"{direction}/{ts:020d}{event_id:036d}/s"


def _parse_position(token: str) -> tuple[str, tuple[int, int]]:
    parts = token.split("/")
    if len(parts) != 3 or parts[0] not in ("f", "b") or len(parts[1]) != 56 or not parts[1].isdigit():
        raise invalid(_BAD_TOKEN)
    return parts[0], (int(parts[1][:20]), int(parts[1][20:]))


class LogsProvider:
    def __init__(self, engine: LogsEngine, subscriptions: SubscriptionFilters, tails: LiveTails) -> None:
        self.engine = engine
        self.subscriptions = subscriptions
        self.tails = tails

    # -- groups ----------------------------------------------------------------------------------------
    def create_log_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.create_group(params["logGroupName"], params.get("tags"), params.get("logGroupClass"))

    def delete_log_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        name = params["logGroupName"]
        self.engine.delete_group(name)
        self.subscriptions.group_deleted(name)

    def describe_log_groups(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("logGroupNamePrefix") or ""
        pattern = params.get("logGroupNamePattern")
        if prefix and pattern:
            raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        limit = params.get("limit") or 50
        after = _decode(params["nextToken"]) if params.get("nextToken") else None
        wanted_class = params.get("logGroupClass")
        identifiers = params.get("logGroupIdentifiers")
        names = {self.engine.resolve_group(None, i) for i in identifiers} if identifiers else None
        found: list[GroupRow] = []
        more = False
        while True:
            rows = self.engine.tables.groups(prefix, after, limit + 1)
            for row in rows:
                after = row.name
                if pattern and pattern.lower() not in row.name.lower():  # AWS: case-insensitive substring
                    continue
                if wanted_class and row.log_class != wanted_class:
                    continue
                if names is not None and row.name not in names:
                    continue
                if len(found) == limit:
                    more = True
                    break
                found.append(row)
            if more or len(rows) <= limit:
                break
        result: dict[str, Any] = {"logGroups": [self._group(row) for row in found]}
        if more:
            result["nextToken"] = _encode(found[-1].name)
        return result

    def _group(self, row: Any) -> dict[str, Any]:
        arn = self.engine.group_arn(row.name)
        shown = {
            "logGroupName": row.name,
            "creationTime": row.created_ms,
            "metricFilterCount": 0,
            "arn": arn + ":*",
            "storedBytes": row.stored_bytes,
            "logGroupClass": row.log_class,
            "logGroupArn": arn,
            "deletionProtectionEnabled": False,
        }
        if row.retention_days is not None:
            shown["retentionInDays"] = row.retention_days
        return shown

    def put_retention_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.set_retention(params["logGroupName"], params["retentionInDays"])

    def delete_retention_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.set_retention(params["logGroupName"], None)

    # -- tags ------------------------------------------------------------------------------------------
    def _tagged_group(self, arn: str) -> str:
        parts = arn.split(":", 6)
        if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
            raise invalid(f"Invalid resource ARN: {arn}")
        name = parts[6].removesuffix(":*")
        self.engine.group(name)
        return name

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.tag(self._tagged_group(params["resourceArn"]), params["tags"])

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.untag(self._tagged_group(params["resourceArn"]), params["tagKeys"])

    def list_tags_for_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.engine.group(self._tagged_group(params["resourceArn"])).tags}

    def tag_log_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.tag(params["logGroupName"], params["tags"])

    def untag_log_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.untag(params["logGroupName"], params["tags"])

    def list_tags_log_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.engine.group(params["logGroupName"]).tags}

    # -- streams ---------------------------------------------------------------------------------------
    def create_log_stream(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.create_stream(params["logGroupName"], params["logStreamName"])

    def delete_log_stream(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.engine.delete_stream(params["logGroupName"], params["logStreamName"])

    def describe_log_streams(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.engine.resolve_group(params.get("logGroupName"), params.get("logGroupIdentifier"))
        self.engine.group(group)
        prefix = params.get("logStreamNamePrefix") or ""
        by_last = params.get("orderBy") == "LastEventTime"
        if by_last and prefix:
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        limit = params.get("limit") or 50
        offset = 0
        if params.get("nextToken"):
            text = _decode(params["nextToken"])
            if not text.isdigit():
                raise invalid(_BAD_TOKEN)
            offset = int(text)
        rows = self.engine.tables.streams(group, prefix, by_last, bool(params.get("descending")), offset, limit + 1)
        result: dict[str, Any] = {"logStreams": [self._stream(group, row) for row in rows[:limit]]}
        if len(rows) > limit:
            result["nextToken"] = _encode(str(offset + limit))
        return result

    def _stream(self, group: str, row: Any) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "logStreamName": row.name,
            "creationTime": row.created_ms,
            "arn": self.engine.stream_arn(group, row.name),
            "storedBytes": 0,  # deprecated by AWS, always 0 there
        }
        if row.first_event_ms is not None:
            shown["firstEventTimestamp"] = row.first_event_ms
            shown["lastEventTimestamp"] = row.last_event_ms
            shown["lastIngestionTime"] = row.last_ingestion_ms
            shown["uploadSequenceToken"] = f"{row.id:020d}{row.last_ingestion_ms or 0:036d}"
        return shown

    # -- events ----------------------------------------------------------------------------------------
    def put_log_events(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.engine.put_events(params["logGroupName"], params["logStreamName"], params["logEvents"])

    def get_log_events(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.engine.resolve_group(params.get("logGroupName"), params.get("logGroupIdentifier"))
        stream = self.engine.stream(group, params["logStreamName"])
        limit = min(params.get("limit") or MAX_EVENTS, MAX_EVENTS)
        start, end = params.get("startTime"), params.get("endTime")
        token = params.get("nextToken")
        tables = self.engine.tables
        if token:
            direction, position = _parse_position(token)
            if direction == "f":
                rows = tables.stream_events(stream.id, start, end, after=position, limit=limit)
            else:
                rows = tables.stream_events(stream.id, start, end, before=position, limit=limit, newest_first=True)
                rows.reverse()
        elif params.get("startFromHead"):
            direction, position = "f", (0, 0)
            rows = tables.stream_events(stream.id, start, end, limit=limit)
        else:
            direction, position = "b", (0, 0)
            rows = tables.stream_events(stream.id, start, end, limit=limit, newest_first=True)
            rows.reverse()
        rows = _within_bytes(rows, keep_last=direction == "b" and not params.get("startFromHead"))
        if rows:
            forward = _position_token("f", rows[-1].timestamp_ms, rows[-1].id)
            backward = _position_token("b", rows[0].timestamp_ms, rows[0].id)
        else:  # nothing beyond the position: both tokens stay there (the same token comes back)
            forward = _position_token("f", *position)
            backward = _position_token("b", *position)
        return {
            "events": [
                {"timestamp": r.timestamp_ms, "message": r.message, "ingestionTime": r.ingested_ms} for r in rows
            ],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.engine.resolve_group(params.get("logGroupName"), params.get("logGroupIdentifier"))
        self.engine.group(group)
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names and prefix:
            raise invalid("Cannot specify both logStreamNames and logStreamNamePrefix.")
        try:
            matcher = compile_pattern(params.get("filterPattern"))
        except InvalidPattern as bad:
            raise invalid(str(bad)) from None
        limit = min(params.get("limit") or MAX_EVENTS, MAX_EVENTS)
        after: tuple[int, int] | None = None
        if params.get("nextToken"):
            text = _decode(params["nextToken"])
            ts, _, event_id = text.partition(":")
            if not (ts.isdigit() and event_id.isdigit()):
                raise invalid(_BAD_TOKEN)
            after = (int(ts), int(event_id))
        events: list[dict[str, Any]] = []
        size = 0
        scanned = 0
        last: EventRow | None = None
        more = False
        for row in self.engine.tables.scan(group, names, prefix, params.get("startTime"), params.get("endTime"), after):
            if len(events) >= limit or size >= MAX_RESPONSE_BYTES or scanned >= MAX_SCANNED:
                more = True
                break
            scanned += 1
            last = row
            if matcher(row.message) is None:
                continue
            size += len(row.message) + 26
            events.append(
                {
                    "logStreamName": row.stream,
                    "timestamp": row.timestamp_ms,
                    "message": row.message,
                    "ingestionTime": row.ingested_ms,
                    "eventId": f"{row.id:056d}",
                }
            )
        result: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        if more and last is not None:
            result["nextToken"] = _encode(f"{last.timestamp_ms}:{last.id}")
        return result

    # -- subscription filters --------------------------------------------------------------------------
    def put_subscription_filter(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.subscriptions.put(params["logGroupName"], params)

    def delete_subscription_filter(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self.subscriptions.delete(params["logGroupName"], params["filterName"])

    def describe_subscription_filters(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.subscriptions.describe(params["logGroupName"], params.get("filterNamePrefix") or "")
        limit = params.get("limit") or 50
        offset = int(_decode(params["nextToken"])) if params.get("nextToken") else 0
        result: dict[str, Any] = {"subscriptionFilters": found[offset : offset + limit]}
        if len(found) > offset + limit:
            result["nextToken"] = _encode(str(offset + limit))
        return result

    # -- live tail -------------------------------------------------------------------------------------
    def start_live_tail(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.tails.start_live_tail(ctx.request_id, params)


def _within_bytes(rows: list[EventRow], keep_last: bool) -> list[EventRow]:
    """At most 1 MB of events per answer: the newest ones when reading back from the end."""
    total = 0
    ordered = reversed(rows) if keep_last else iter(rows)
    kept: list[EventRow] = []
    for row in ordered:
        total += len(row.message) + 26
        if total > MAX_RESPONSE_BYTES:
            break
        kept.append(row)
    if keep_last:
        kept.reverse()
    return kept
