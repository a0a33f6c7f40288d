"""Kinesis as a `StreamSource` for event source mappings (sources/stream_source.py): records in the shape
Lambda hands them to functions (spec/events.md §5, the recorded test_lambda_integration_kinesis entries)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from lamina.services.kinesis.engine import KinesisEngine, Shard, Stream
from lamina.sources.stream_source import StreamItem


class KinesisSource:
    batch_info_key = "KinesisBatchInfo"

    def __init__(self, engine: KinesisEngine) -> None:
        self._engine = engine

    def _stream(self, arn: str) -> Stream | None:
        """The stream of a stream ARN, or of a registered consumer's ARN (…:stream/s/consumer/c:123)."""
        stream_arn, _, consumer = arn.partition("/consumer/")
        stream = self._engine.streams.get(stream_arn.rsplit("/", 1)[-1])
        if stream is None or stream.arn != stream_arn:
            return None
        if consumer:
            registered = stream.doc.get("Consumers", {}).get(consumer.rsplit(":", 1)[0])
            if registered is None or registered["ConsumerARN"] != arn:
                return None
        return stream

    def _shard(self, arn: str, shard_id: str) -> tuple[Stream, Shard] | None:
        stream = self._stream(arn)
        shard = stream.shard(shard_id) if stream is not None else None
        return None if stream is None or shard is None else (stream, shard)

    def exists(self, arn: str) -> bool:
        return self._stream(arn) is not None

    def shards(self, arn: str) -> list[str] | None:
        stream = self._stream(arn)
        return None if stream is None else [s.shard_id for s in stream.shards]

    def parents(self, arn: str, shard: str) -> list[str]:
        found = self._shard(arn, shard)
        return [] if found is None else [p for p in (found[1].parent, found[1].adjacent) if p is not None]

    def finished(self, arn: str, shard: str, position: int) -> bool:
        found = self._shard(arn, shard)
        return found is None or (not found[1].open and found[1].remaining_after(position) is None)

    def start(self, arn: str, shard: str, kind: str, timestamp: float | None) -> int:
        found = self._shard(arn, shard)
        if found is None or kind == "TRIM_HORIZON":
            return -1
        stream, sh = found
        if kind == "AT_TIMESTAMP" and timestamp is not None:
            first = sh.first_at_or_after(timestamp)
            if first is not None:
                return first.seq - 1
        return self._engine.latest(stream)

    def read(self, arn: str, shard: str, after: int, limit: int, role: str) -> list[StreamItem]:
        found = self._shard(arn, shard)
        if found is None:
            return []
        stream, sh = found
        out = []
        for rec in sh.after(after, limit):
            seq = rec.sequence_number
            record: dict[str, Any] = {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": rec.partition_key,
                    "sequenceNumber": seq,
                    "data": base64.b64encode(rec.data).decode(),
                    "approximateArrivalTimestamp": rec.arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{seq}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role,
                "awsRegion": self._engine.region,
                "eventSourceARN": stream.arn,
            }
            out.append(StreamItem(rec.seq, seq, rec.arrival, rec.partition_key, record, _json(rec.data)))
        return out

    def waiter(self, arn: str) -> asyncio.Event | None:
        stream = self._stream(arn)
        return None if stream is None else stream.arrived

    def latest_arrival(self, arn: str, shard: str) -> float | None:
        found = self._shard(arn, shard)
        if found is None or not found[1].records:
            return None
        return found[1].records[-1].arrival


def _json(data: bytes) -> Any:
    """The data as JSON for filtering; data that is not JSON matches no data pattern (spec/events.md §6)."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
