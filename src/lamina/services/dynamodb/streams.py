"""DynamoDB Streams: the records of item changes and the `dynamodbstreams` API that reads them.

A table with a StreamSpecification gets one record per item change (INSERT, MODIFY, REMOVE), built by the
engine and committed in the same store transaction as the change itself, in commit order. Each stream has one
shard; records are kept 24 hours. Iterators are self-contained tokens (stream, shard, position, creation
time) that expire after 15 minutes, as AWS's do.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from lamina.clock import Clock
from lamina.errors import ValidationFailed
from lamina.services.dynamodb.faults import DynamoFault, not_found
from lamina.services.dynamodb.tables import Document, stream_arn
from lamina.services.dynamodb.values import Item, item_size, item_to_json
from lamina.store.dynamodb_sqlite import StreamRecord
from lamina.types import CallContext

RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@dataclass
class StreamLog:
    """Every stream's retained records in memory (the store holds the same rows)."""

    region: str
    records: dict[str, list[tuple[int, float, dict[str, Any]]]] = field(default_factory=dict)
    last_seq: int = 0

    def load(self, rows: list[StreamRecord]) -> None:
        for arn, seq, created, body in rows:
            self.records.setdefault(arn, []).append((seq, created, body))
            self.last_seq = max(self.last_seq, seq)

    def record(
        self, table: Document, keys: tuple[str, ...], old: Item | None, new: Item | None, now: float, by_ttl: bool
    ) -> StreamRecord | None:
        """The record of one item change, or None when the table has no enabled stream."""
        spec = table.get("StreamSpecification") or {}
        if not spec.get("StreamEnabled") or (old is None and new is None):
            return None
        view = spec["StreamViewType"]
        self.last_seq += 1
        source = new if new is not None else old
        assert source is not None
        data: dict[str, Any] = {
            "ApproximateCreationDateTime": float(int(now)),
            "Keys": item_to_json({k: source[k] for k in keys}),
            "SequenceNumber": str(10**20 + self.last_seq),
            "StreamViewType": view,
        }
        if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            data["NewImage"] = item_to_json(new)
        if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            data["OldImage"] = item_to_json(old)
        data["SizeBytes"] = sum(item_size(i) for i in (new, old) if i is not None) + item_size(
            {k: source[k] for k in keys}
        )
        body: dict[str, Any] = {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY"),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": data,
        }
        if by_ttl:
            body["userIdentity"] = dict(TTL_IDENTITY)
        return (stream_arn(table), self.last_seq, now, body)

    def append(self, rows: list[StreamRecord]) -> None:
        for arn, seq, created, body in rows:
            self.records.setdefault(arn, []).append((seq, created, body))

    def trim(self, before: float) -> None:
        for arn, rows in self.records.items():
            self.records[arn] = [r for r in rows if r[1] >= before]


def shard_id(table: Document) -> str:
    digest = hashlib.sha256(stream_arn(table).encode()).hexdigest()[:8]
    return f"shardId-{int(table['CreationDateTime'] * 1000):020d}-{digest}"


def _expired(created: float, now: float) -> DynamoFault:
    def shown(t: float) -> str:
        return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")

    return DynamoFault(
        "ExpiredIteratorException",
        f"Iterator expired. The iterator was created at time {shown(created)} while right now it's {shown(now)}",
    )


class StreamsProvider:
    """The `dynamodbstreams` wire operations over the engine's tables and the stream log."""

    def __init__(self, tables: Any, log: StreamLog, clock: Clock) -> None:
        self._tables = tables  # the engine's {name: Table}
        self._log = log
        self._clock = clock

    def _streams(self) -> list[Document]:
        documents = [t.document for t in self._tables.values()]
        return [d for d in documents if "LatestStreamLabel" in d]

    def _find(self, arn: str) -> Document:
        for document in self._streams():
            if stream_arn(document) == arn:
                return document
        raise not_found(f"Requested resource not found: Stream: {arn} not found")

    def list_streams(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = [
            {"StreamArn": stream_arn(d), "TableName": d["TableName"], "StreamLabel": d["LatestStreamLabel"]}
            for d in sorted(self._streams(), key=stream_arn)
            if params.get("TableName") in (None, d["TableName"])
        ]
        start = params.get("ExclusiveStartStreamArn")
        if start is not None:
            found = [s for s in found if s["StreamArn"] > start]
        limit = params.get("Limit", 100)
        out: dict[str, Any] = {"Streams": found[:limit]}
        if len(found) > limit:
            out["LastEvaluatedStreamArn"] = found[limit - 1]["StreamArn"]
        return out

    def describe_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._find(params["StreamArn"])
        spec = document.get("StreamSpecification") or {}
        rows = self._log.records.get(stream_arn(document), [])
        start = str(10**20 + rows[0][0]) if rows else str(10**20 + self._log.last_seq + 1)
        return {
            "StreamDescription": {
                "StreamArn": stream_arn(document),
                "StreamLabel": document["LatestStreamLabel"],
                "StreamStatus": "ENABLED" if spec.get("StreamEnabled") else "DISABLED",
                "StreamViewType": spec.get("StreamViewType", document.get("LastStreamViewType", "KEYS_ONLY")),
                "CreationRequestDateTime": document["CreationDateTime"],
                "TableName": document["TableName"],
                "KeySchema": document["KeySchema"],
                "Shards": [{"ShardId": shard_id(document), "SequenceNumberRange": {"StartingSequenceNumber": start}}],
            }
        }

    def get_shard_iterator(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        document = self._find(params["StreamArn"])
        if params["ShardId"] != shard_id(document):
            raise not_found(f"Requested resource not found: Shard does not exist: {params['ShardId']}")
        kind = params["ShardIteratorType"]
        rows = self._log.records.get(stream_arn(document), [])
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            position = rows[-1][0] if rows else self._log.last_seq
        else:
            given = params.get("SequenceNumber")
            if given is None or not given.isdigit():
                raise ValidationFailed("SequenceNumber is required when ShardIteratorType is " + kind)
            seq = int(given) - 10**20
            position = seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
        return {"ShardIterator": self._iterator(stream_arn(document), position)}

    def _iterator(self, arn: str, position: int) -> str:
        token = {"a": arn, "p": position, "t": self._clock.time()}
        return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()

    def get_records(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            token = json.loads(base64.urlsafe_b64decode(params["ShardIterator"].encode()))
            arn, position, created = str(token["a"]), int(token["p"]), float(token["t"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ValidationFailed("Invalid ShardIterator") from None
        now = self._clock.time()
        if now - created > ITERATOR_SECONDS:
            raise _expired(created, now)
        self._find(arn)
        limit = params.get("Limit", 1000)
        rows = [r for r in self._log.records.get(arn, []) if r[0] > position][:limit]
        last = rows[-1][0] if rows else position
        return {"Records": [r[2] for r in rows], "NextShardIterator": self._iterator(arn, last)}
