"""DynamoDB Streams as a `StreamSource` for event source mappings (sources/stream_source.py): one shard per
stream (streams.py), positions are the stream log's sequence numbers, records as the function gets them
(spec/events.md §5: the stream record plus eventSourceARN)."""

from __future__ import annotations

import asyncio
import bisect
import json
from typing import Any

from lamina.services.dynamodb.streams import StreamLog, shard_id
from lamina.services.dynamodb.tables import Document, stream_arn
from lamina.sources.stream_source import StreamItem


class DynamoStreamSource:
    batch_info_key = "DDBStreamBatchInfo"

    def __init__(self, tables: Any, log: StreamLog) -> None:
        self._tables = tables  # the engine's {name: Table}
        self._log = log

    def _table(self, arn: str) -> Document | None:
        for table in self._tables.values():
            document: Document = table.document
            if "LatestStreamLabel" in document and stream_arn(document) == arn:
                return document
        return None

    def exists(self, arn: str) -> bool:
        return self._table(arn) is not None

    def shards(self, arn: str) -> list[str] | None:
        document = self._table(arn)
        return None if document is None else [shard_id(document)]

    def parents(self, arn: str, shard: str) -> list[str]:
        return []  # one shard per stream, never resharded

    def finished(self, arn: str, shard: str, position: int) -> bool:
        return False

    def start(self, arn: str, shard: str, kind: str, timestamp: float | None) -> int:
        if kind == "TRIM_HORIZON":
            return -1
        return self._log.last_seq

    def read(self, arn: str, shard: str, after: int, limit: int, role: str) -> list[StreamItem]:
        rows = self._log.records.get(arn, [])
        i = bisect.bisect_right(rows, after, key=lambda r: r[0])
        out = []
        for seq, created, body in rows[i : i + limit]:
            record = {**body, "eventSourceARN": arn}
            key = json.dumps(body["dynamodb"]["Keys"], sort_keys=True)
            out.append(StreamItem(seq, body["dynamodb"]["SequenceNumber"], created, key, record))
        return out

    def waiter(self, arn: str) -> asyncio.Event | None:
        return None  # the stream log has no arrival signal: the poller looks once a second, as AWS's does

    def latest_arrival(self, arn: str, shard: str) -> float | None:
        rows = self._log.records.get(arn, [])
        return rows[-1][1] if rows else None
