"""The `kinesis` wire operations (json 1.1; botocore sends JSON, not CBOR) over the engine.

Every operation that names a stream takes StreamName or StreamARN. Shard iterators are self-contained tokens
(stream, shard, position, creation time) that expire after 5 minutes, as AWS's do.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any

from lamina.clock import Clock
from lamina.services.kinesis.engine import MAX_RETENTION_H, SEQ_BASE, KinesisEngine, Record, Shard, Stream
from lamina.services.kinesis.fan_out import FanOut, child_shards
from lamina.services.kinesis.faults import KinesisFault, in_use, invalid, stream_not_found
from lamina.services.kinesis.limits import MAX_READ_BYTES, Throughput, read_exceeded, write_exceeded
from lamina.types import CallContext

ITERATOR_S = 300
MAX_GET_LIMIT = 10_000
MAX_PUT_BYTES = 5 * 1024 * 1024


def _shown(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _size(partition_key: str, data: bytes) -> int:
    """A record's size as Kinesis counts it against the limits: its data plus its partition key."""
    return len(data) + len(partition_key.encode())


def _capped(records: list[Record]) -> list[Record]:
    """The records one GetRecords answers: at most 10 MiB (at least one record)."""
    size = 0
    for i, rec in enumerate(records):
        size += _size(rec.partition_key, rec.data)
        if i and size > MAX_READ_BYTES:
            return records[:i]
    return records


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class KinesisProvider:
    def __init__(self, engine: KinesisEngine, clock: Clock, limits: Throughput | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self.limits = limits if limits is not None else Throughput(clock)
        self.fan_out = FanOut(clock)

    def _stream(self, params: dict[str, Any]) -> Stream:
        return self._engine.find(params.get("StreamName"), params.get("StreamARN"))

    def _shard(self, stream: Stream, shard_id: str) -> Shard:
        shard = stream.shard(shard_id)
        if shard is None:
            raise KinesisFault(
                "ResourceNotFoundException",
                f"Shard {shard_id} in stream {stream.name} under account {self._engine.account} does not exist",
            )
        return shard

    # -- streams --------------------------------------------------------------------------------
    async def create_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        count = params.get("ShardCount")
        if mode == "ON_DEMAND" and count is not None:
            raise invalid("ShardCount cannot be specified for ON_DEMAND stream mode.")  # Lamina's wording
        await self._engine.create(params["StreamName"], count, mode, dict(params.get("Tags") or {}))
        return {}

    async def delete_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        await self._engine.delete(stream)
        self.limits.forget(stream.name)
        return {}

    def describe_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        shards = stream.shards
        start = params.get("ExclusiveStartShardId")
        if start is not None:
            shards = [s for s in shards if s.shard_id > start]
        limit = params.get("Limit", 100)
        doc = stream.doc
        out = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": doc["StreamStatus"],
            "StreamModeDetails": doc["StreamModeDetails"],
            "Shards": [s.describe() for s in shards[:limit]],
            "HasMoreShards": len(shards) > limit,
            "RetentionPeriodHours": doc["RetentionPeriodHours"],
            "StreamCreationTimestamp": doc["StreamCreationTimestamp"],
            "EnhancedMonitoring": [{"ShardLevelMetrics": list(doc.get("ShardLevelMetrics", []))}],
            "EncryptionType": doc["EncryptionType"],
        }
        if doc.get("KeyId"):
            out["KeyId"] = doc["KeyId"]
        return {"StreamDescription": out}

    def describe_stream_summary(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        doc = stream.doc
        out = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": doc["StreamStatus"],
            "StreamModeDetails": doc["StreamModeDetails"],
            "RetentionPeriodHours": doc["RetentionPeriodHours"],
            "StreamCreationTimestamp": doc["StreamCreationTimestamp"],
            "EnhancedMonitoring": [{"ShardLevelMetrics": list(doc.get("ShardLevelMetrics", []))}],
            "EncryptionType": doc["EncryptionType"],
            "OpenShardCount": sum(s.open for s in stream.shards),
            "ConsumerCount": len(doc.get("Consumers", {})),
        }
        if doc.get("KeyId"):
            out["KeyId"] = doc["KeyId"]
        return {"StreamDescriptionSummary": out}

    def list_streams(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self._engine.streams)
        start = params.get("ExclusiveStartStreamName")
        token = params.get("NextToken")
        if token is not None:
            try:
                start = base64.urlsafe_b64decode(token.encode()).decode()
            except (ValueError, binascii.Error):
                raise invalid(f"Invalid NextToken: {token}") from None
        if start is not None:
            names = [n for n in names if n > start]
        limit = params.get("Limit", 100)
        page = names[:limit]
        out: dict[str, Any] = {
            "StreamNames": page,
            "HasMoreStreams": len(names) > limit,
            "StreamSummaries": [
                {
                    "StreamName": n,
                    "StreamARN": self._engine.streams[n].arn,
                    "StreamStatus": self._engine.streams[n].doc["StreamStatus"],
                    "StreamModeDetails": self._engine.streams[n].doc["StreamModeDetails"],
                    "StreamCreationTimestamp": self._engine.streams[n].doc["StreamCreationTimestamp"],
                }
                for n in page
            ],
        }
        if len(names) > limit:
            out["NextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
        return out

    def list_shards(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("NextToken")
        start = params.get("ExclusiveStartShardId")
        if token is not None:
            if params.get("StreamName") is not None or params.get("StreamARN") is not None:
                raise invalid("NextToken and StreamName cannot be provided together.")
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                name, start = str(decoded["s"]), str(decoded["h"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise invalid(f"Invalid NextToken: {token}") from None
            stream = self._engine.find(name, None)
        else:
            stream = self._stream(params)
        shards = stream.shards
        if start is not None:
            shards = [s for s in shards if s.shard_id > start]
        limit = params.get("MaxResults", 1000)
        out: dict[str, Any] = {"Shards": [s.describe() for s in shards[:limit]]}
        if len(shards) > limit:
            last = shards[limit - 1].shard_id
            out["NextToken"] = base64.urlsafe_b64encode(json.dumps({"s": stream.name, "h": last}).encode()).decode()
        return out

    # -- enhanced fan-out consumers (registered and described; event source mappings may name them) ---------
    def _consumer(self, params: dict[str, Any]) -> tuple[Stream, dict[str, Any]]:
        arn = params.get("ConsumerARN")
        if arn is not None:
            stream_arn, _, rest = arn.partition("/consumer/")
            stream = self._engine.find(None, stream_arn)
            name = rest.rsplit(":", 1)[0]
        else:
            if params.get("StreamARN") is None or params.get("ConsumerName") is None:
                raise invalid("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
            stream, name = self._engine.find(None, params["StreamARN"]), params["ConsumerName"]
        consumer = stream.doc.setdefault("Consumers", {}).get(name)
        if consumer is None or (arn is not None and consumer["ConsumerARN"] != arn):
            raise KinesisFault(
                "ResourceNotFoundException",
                f"Consumer {name} under stream {stream.name} under account {self._engine.account} not found.",
            )
        return stream, consumer

    async def register_stream_consumer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._engine.find(None, params["StreamARN"])
        name = params["ConsumerName"]
        consumers = stream.doc.setdefault("Consumers", {})
        if name in consumers:
            raise KinesisFault(
                "ResourceInUseException",
                f"Consumer {name} under stream {stream.name} already exists for account {self._engine.account}.",
            )
        now = self._clock.time()
        consumers[name] = {
            "ConsumerName": name,
            "ConsumerARN": f"{stream.arn}/consumer/{name}:{int(now)}",
            "ConsumerCreationTimestamp": now,
        }
        await self._engine.save(stream)
        return {"Consumer": {**consumers[name], "ConsumerStatus": "CREATING"}}  # ACTIVE from the next describe

    def describe_stream_consumer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream, consumer = self._consumer(params)
        return {"ConsumerDescription": {**consumer, "ConsumerStatus": "ACTIVE", "StreamARN": stream.arn}}

    def list_stream_consumers(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._engine.find(None, params["StreamARN"])
        found = sorted(stream.doc.get("Consumers", {}).values(), key=lambda c: c["ConsumerName"])
        return {"Consumers": [{**c, "ConsumerStatus": "ACTIVE"} for c in found]}

    async def deregister_stream_consumer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream, consumer = self._consumer(params)
        del stream.doc["Consumers"][consumer["ConsumerName"]]
        await self._engine.save(stream)
        return {}

    # -- resharding -----------------------------------------------------------------------------------
    async def split_shard(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        await self._engine.split(stream, params["ShardToSplit"], int(params["NewStartingHashKey"]))
        return {}

    async def merge_shards(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        await self._engine.merge(stream, params["ShardToMerge"], params["AdjacentShardToMerge"])
        return {}

    async def update_shard_count(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        target = params["TargetShardCount"]
        current = await self._engine.update_shard_count(stream, target)
        return {"StreamName": stream.name, "CurrentShardCount": current, "TargetShardCount": target,
                "StreamARN": stream.arn}  # fmt: skip

    async def update_stream_mode(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._engine.find(None, params["StreamARN"])
        status = stream.doc["StreamStatus"]
        if status != "ACTIVE":
            raise in_use(
                f"Stream {stream.name} under account {self._engine.account} not ACTIVE, instead in state {status}"
            )
        mode = params["StreamModeDetails"]["StreamMode"]
        if mode != stream.doc["StreamModeDetails"].get("StreamMode"):
            await self._engine.update_mode(stream, mode)
            self.limits.forget(stream.name)  # the throughput windows were the other mode's
        return {}

    # -- retention ------------------------------------------------------------------------------
    async def increase_stream_retention_period(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        hours = params["RetentionPeriodHours"]
        current = stream.doc["RetentionPeriodHours"]
        self._check_hours(hours)
        if hours < current:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be shorter than "
                f"existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
            )
        stream.doc["RetentionPeriodHours"] = hours
        await self._engine.save(stream)
        return {}

    async def decrease_stream_retention_period(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        hours = params["RetentionPeriodHours"]
        current = stream.doc["RetentionPeriodHours"]
        self._check_hours(hours)
        if hours > current:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be longer than "
                f"existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
            )
        stream.doc["RetentionPeriodHours"] = hours
        await self._engine.save(stream)
        return {}

    @staticmethod
    def _check_hours(hours: int) -> None:
        if hours < 24:
            raise invalid(
                f"Minimum allowed retention period is 24 hours. Requested retention period (in hours): {hours}"
            )
        if hours > MAX_RETENTION_H:
            raise invalid(
                f"Maximum allowed retention period is {MAX_RETENTION_H} hours. "
                f"Requested retention period (in hours): {hours}"
            )

    # -- encryption (stored and reported; Lamina has no KMS, records are not encrypted at rest) --------------
    async def start_stream_encryption(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        stream.doc["EncryptionType"] = params["EncryptionType"]
        stream.doc["KeyId"] = params["KeyId"]
        await self._engine.save(stream)
        return {}

    async def stop_stream_encryption(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        stream.doc["EncryptionType"] = "NONE"
        stream.doc.pop("KeyId", None)
        await self._engine.save(stream)
        return {}

    # -- tags -----------------------------------------------------------------------------------
    async def add_tags_to_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        stream.doc["Tags"] = {**stream.doc["Tags"], **params["Tags"]}
        await self._engine.save(stream)
        return {}

    async def remove_tags_from_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        gone = set(params["TagKeys"])
        stream.doc["Tags"] = {k: v for k, v in stream.doc["Tags"].items() if k not in gone}
        await self._engine.save(stream)
        return {}

    def list_tags_for_stream(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = _tag_list(self._stream(params).doc["Tags"])
        start = params.get("ExclusiveStartTagKey")
        if start is not None:
            tags = [t for t in tags if t["Key"] > start]
        limit = params.get("Limit", 50)
        return {"Tags": tags[:limit], "HasMoreTags": len(tags) > limit}

    def _by_resource(self, arn: str) -> Stream:
        return self._engine.find(None, arn)

    async def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._by_resource(params["ResourceARN"])
        stream.doc["Tags"] = {**stream.doc["Tags"], **params["Tags"]}
        await self._engine.save(stream)
        return {}

    async def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._by_resource(params["ResourceARN"])
        gone = set(params["TagKeys"])
        stream.doc["Tags"] = {k: v for k, v in stream.doc["Tags"].items() if k not in gone}
        await self._engine.save(stream)
        return {}

    def list_tags_for_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": _tag_list(self._by_resource(params["ResourceARN"]).doc["Tags"])}

    # -- records --------------------------------------------------------------------------------
    async def put_record(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        data = bytes(params["Data"])
        key, explicit = params["PartitionKey"], params.get("ExplicitHashKey")
        shard = self._engine.placement(stream, key, explicit)
        if not self.limits.admit_write(stream.name, shard.shard_id, self._on_demand(stream), _size(key, data)):
            raise KinesisFault(
                "ProvisionedThroughputExceededException",
                write_exceeded(shard.shard_id, stream.name, self._engine.account),
            )
        ((shard, rec),) = await self._engine.put(stream, [(key, data, explicit)])
        return {"ShardId": shard.shard_id, "SequenceNumber": rec.sequence_number, "EncryptionType": self._enc(stream)}

    async def put_records(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        entries = [(e["PartitionKey"], bytes(e["Data"]), e.get("ExplicitHashKey")) for e in params["Records"]]
        total = sum(_size(key, data) for key, data, _ in entries)
        if total > MAX_PUT_BYTES:
            raise invalid(f"Records size exceeds 5 MB limit: {total} bytes")  # Lamina's wording
        shards = [self._engine.placement(stream, key, explicit) for key, _, explicit in entries]  # all checked first
        on_demand = self._on_demand(stream)
        admitted = [
            self.limits.admit_write(stream.name, shard.shard_id, on_demand, _size(key, data))
            for shard, (key, data, _) in zip(shards, entries, strict=True)
        ]
        accepted = [e for e, ok in zip(entries, admitted, strict=True) if ok]
        placed = iter(await self._engine.put(stream, accepted) if accepted else [])
        results: list[dict[str, Any]] = []
        for shard, ok in zip(shards, admitted, strict=True):
            if ok:
                at, rec = next(placed)
                results.append({"SequenceNumber": rec.sequence_number, "ShardId": at.shard_id})
            else:
                results.append({
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": write_exceeded(shard.shard_id, stream.name, self._engine.account),
                })  # fmt: skip
        return {
            "FailedRecordCount": admitted.count(False),
            "Records": results,
            "EncryptionType": self._enc(stream),
        }

    @staticmethod
    def _on_demand(stream: Stream) -> bool:
        return bool(stream.doc["StreamModeDetails"].get("StreamMode") == "ON_DEMAND")

    @staticmethod
    def _enc(stream: Stream) -> str:
        return str(stream.doc["EncryptionType"])

    def get_shard_iterator(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(params)
        shard = self._shard(stream, params["ShardId"])
        position = self._position(
            stream, shard, params["ShardIteratorType"], params.get("StartingSequenceNumber"), params.get("Timestamp")
        )
        return {"ShardIterator": self._iterator(stream.name, shard.shard_id, position)}

    def _position(self, stream: Stream, shard: Shard, kind: str, given: str | None, when: Any) -> int:
        """The seq records are read after, for an iterator type (GetShardIterator, SubscribeToShard)."""
        if kind == "TRIM_HORIZON":
            return -1
        if kind == "LATEST":
            return self._engine.latest(stream)
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if given is None:
                raise invalid(f"StartingSequenceNumber must be provided for ShardIteratorType {kind}.")
            seq = int(given) - SEQ_BASE
            if seq < 0:
                raise invalid(
                    f"StartingSequenceNumber {given} used in GetShardIterator on shard {shard.shard_id} in stream "
                    f"{stream.name} under account {self._engine.account} is invalid."
                )
            return seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
        # AT_TIMESTAMP
        if when is None:
            raise invalid("Timestamp must be provided for ShardIteratorType AT_TIMESTAMP.")
        stamp = when.timestamp() if isinstance(when, datetime.datetime) else float(when)
        found = shard.first_at_or_after(stamp)
        return found.seq - 1 if found is not None else self._engine.latest(stream)

    # -- enhanced fan-out: SubscribeToShard (fan_out.py) -----------------------------------------------
    def subscribe_to_shard(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stream, consumer = self._consumer({"ConsumerARN": params["ConsumerARN"]})
        shard = self._shard(stream, params["ShardId"])
        start = params["StartingPosition"]
        position = self._position(stream, shard, start["Type"], start.get("SequenceNumber"), start.get("Timestamp"))
        return {"EventStream": self.fan_out.subscribe(consumer, stream, shard, position)}

    def _iterator(self, name: str, shard_id: str, position: int) -> str:
        token = {"n": name, "s": shard_id, "p": position, "t": self._clock.time()}
        return base64.b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()

    def get_records(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params["ShardIterator"]
        try:
            token = json.loads(base64.b64decode(text.encode(), validate=True))
            name, shard_id, position, created = str(token["n"]), str(token["s"]), int(token["p"]), float(token["t"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise invalid(f"Invalid ShardIterator: {text}") from None  # Lamina's wording
        now = self._clock.time()
        if now - created > ITERATOR_S:
            raise KinesisFault(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {_shown(created)} while right now it is "
                f"{_shown(now)} which is further in the future than the tolerated delay of "
                f"{ITERATOR_S * 1000} milliseconds.",
            )
        stream = self._engine.streams.get(name)
        if stream is None:
            raise stream_not_found(name, self._engine.account)
        shard = self._shard(stream, shard_id)
        limit = params.get("Limit", MAX_GET_LIMIT)
        if limit > MAX_GET_LIMIT:
            raise invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                f"Member must have value less than or equal to {MAX_GET_LIMIT}"
            )
        if not self.limits.admit_read(name, shard_id):
            raise read_exceeded(shard_id, name, self._engine.account)
        records = _capped(shard.after(position, limit))
        self.limits.charge_read(name, shard_id, sum(_size(r.partition_key, r.data) for r in records))
        last = records[-1].seq if records else position
        behind = shard.remaining_after(last)
        out: dict[str, Any] = {
            "Records": [
                {
                    "SequenceNumber": r.sequence_number,
                    "ApproximateArrivalTimestamp": r.arrival,
                    "Data": r.data,
                    "PartitionKey": r.partition_key,
                }
                for r in records
            ],
            "NextShardIterator": self._iterator(name, shard_id, last),
            "MillisBehindLatest": 0 if behind is None else max(0, int((now - behind.arrival) * 1000)),
        }
        if not shard.open and behind is None:  # the end of a closed shard: no next iterator, its children
            del out["NextShardIterator"]
            out["ChildShards"] = child_shards(stream, shard_id)
        return out
