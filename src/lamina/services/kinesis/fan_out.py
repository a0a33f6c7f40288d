"""SubscribeToShard (enhanced fan-out): an event stream (api/protocols/event_stream.py) as botocore reads it for
the json protocol: an `initial-response` event, then `SubscribeToShardEvent`s with the shard's records from the
starting position on, each with its ContinuationSequenceNumber and MillisBehindLatest.

As AWS:
- an event is pushed as soon as records arrive, and at least every `HEARTBEAT_S` without them (empty Records);
- a subscription lasts `LIFETIME_S` (5 minutes) on the project clock, then the stream ends and the consumer
  subscribes again from its ContinuationSequenceNumber;
- a second SubscribeToShard for the same consumer and shard within `TAKEOVER_S` of a successful one is refused
  (ResourceInUseException); a later one takes the subscription over and the earlier stream ends with a
  ResourceInUseException message;
- at the end of a closed shard the last event carries ChildShards and no ContinuationSequenceNumber, and the
  stream ends.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from lamina.api.protocols.event_stream import encode_headers, encode_message, event_headers
from lamina.clock import Clock
from lamina.services.kinesis.engine import SEQ_BASE, Record, Shard, Stream
from lamina.services.kinesis.faults import in_use

LIFETIME_S = 300.0
TAKEOVER_S = 5.0
HEARTBEAT_S = 5.0
MAX_EVENT_RECORDS = 10_000
MAX_EVENT_BYTES = 2 * 1024 * 1024  # an EFO consumer reads 2 MiB/s per shard: at most that much per event

_SLACK = 1e-6  # clock readings that differ by float rounding only are the same instant
_INITIAL = event_headers("initial-response", "application/json")
_EVENT = event_headers("SubscribeToShardEvent", "application/json")
_IN_USE = encode_headers(
    (
        (":exception-type", "ResourceInUseException"),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    )
)


@dataclass
class _Subscription:
    started: float  # project clock time of the successful call
    ended: bool = False
    taken: asyncio.Event = field(default_factory=asyncio.Event)  # set when another call takes it over


def child_shards(stream: Stream, shard_id: str) -> list[dict[str, Any]]:
    """The shards a closed shard was split or merged into, as GetRecords and SubscribeToShard list them."""
    return [
        {
            "ShardId": c.shard_id,
            "ParentShards": [p for p in (c.parent, c.adjacent) if p is not None],
            "HashKeyRange": {"StartingHashKey": str(c.start), "EndingHashKey": str(c.end)},
        }
        for c in stream.shards
        if shard_id in (c.parent, c.adjacent)
    ]


def record_json(rec: Record, encryption: str) -> dict[str, Any]:
    return {
        "SequenceNumber": rec.sequence_number,
        "ApproximateArrivalTimestamp": rec.arrival,
        "Data": base64.b64encode(rec.data).decode(),
        "PartitionKey": rec.partition_key,
        "EncryptionType": encryption,
    }


class FanOut:
    """The latest subscription of each (consumer ARN, shard id)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._live: dict[tuple[str, str], _Subscription] = {}

    @property
    def subscriptions(self) -> int:
        return sum(not s.ended for s in self._live.values())

    def subscribe(self, consumer: dict[str, Any], stream: Stream, shard: Shard, position: int) -> AsyncGenerator[bytes]:
        """Checks the takeover rule and answers the frames; `position` is the seq the records come after."""
        key = (str(consumer["ConsumerARN"]), shard.shard_id)
        now = self._clock.monotonic()
        current = self._live.get(key)
        if current is not None and now - current.started < TAKEOVER_S:  # even if its connection is gone
            raise in_use(  # Lamina's wording, in AWS's style
                f"Another active subscription exists for consumer {key[0]} on shard {shard.shard_id} in stream "
                f"{stream.name}. Wait {TAKEOVER_S:g} seconds after a successful call before subscribing again."
            )
        if current is not None:
            current.ended = True  # taken over: its stream ends with ResourceInUseException
            current.taken.set()
        subscription = _Subscription(now)
        self._live[key] = subscription
        return self._frames(key, subscription, stream, shard, position)

    async def _frames(
        self, key: tuple[str, str], sub: _Subscription, stream: Stream, shard: Shard, position: int
    ) -> AsyncGenerator[bytes]:
        clock = self._clock
        ends = sub.started + LIFETIME_S
        encryption = str(stream.doc["EncryptionType"])
        try:
            yield encode_message(_INITIAL, b"{}")
            last_event = float("-inf")
            while not sub.ended and clock.monotonic() < ends - _SLACK:
                waiter = stream.arrived  # taken before reading: a put in between still wakes us
                records = self._batch(shard, position)
                if records:
                    position = records[-1].seq
                finished = not shard.open and shard.remaining_after(position) is None
                if records or finished or clock.monotonic() - last_event >= HEARTBEAT_S - _SLACK:
                    yield encode_message(_EVENT, self._event(stream, shard, records, position, finished, encryption))
                    last_event = clock.monotonic()
                    if finished:
                        return
                    if records:
                        continue
                wait = min(HEARTBEAT_S - (clock.monotonic() - last_event), ends - clock.monotonic())
                await self._idle((waiter, sub.taken), max(wait, 0.0))
            if sub.taken.is_set():
                message = {"message": f"Subscription for consumer {key[0]} on shard {key[1]} was taken over by "
                                      "another SubscribeToShard call."}  # fmt: skip
                yield encode_message(_IN_USE, json.dumps(message).encode())
        finally:
            sub.ended = True  # kept in _live: the 5 s rule counts from the call, not from the connection

    @staticmethod
    def _batch(shard: Shard, position: int) -> list[Record]:
        out: list[Record] = []
        size = 0
        for rec in shard.after(position, MAX_EVENT_RECORDS):
            size += len(rec.data) + len(rec.partition_key)
            if out and size > MAX_EVENT_BYTES:
                break
            out.append(rec)
        return out

    def _event(
        self, stream: Stream, shard: Shard, records: list[Record], position: int, finished: bool, encryption: str
    ) -> bytes:
        behind = shard.remaining_after(position)
        now = self._clock.time()
        event: dict[str, Any] = {
            "Records": [record_json(r, encryption) for r in records],
            "MillisBehindLatest": 0 if behind is None else max(0, int((now - behind.arrival) * 1000)),
        }
        if finished:
            event["ChildShards"] = child_shards(stream, shard.shard_id)
        else:
            event["ContinuationSequenceNumber"] = str(SEQ_BASE + max(position, shard.first_seq))
        return json.dumps(event, separators=(",", ":")).encode()

    async def _idle(self, events: tuple[asyncio.Event, ...], seconds: float) -> None:
        tasks = [asyncio.ensure_future(self._clock.sleep(seconds)), *(asyncio.ensure_future(e.wait()) for e in events)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
