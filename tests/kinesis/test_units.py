"""The engine and provider in virtual time: iterator expiry after 5 minutes, the retention sweeper."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer

from lamina.clock import ManualClock
from lamina.services.kinesis.engine import KinesisEngine
from lamina.services.kinesis.faults import KinesisFault
from lamina.services.kinesis.provider import KinesisProvider
from lamina.store.documents import SqliteStore
from lamina.store.kinesis_sqlite import KinesisStore
from lamina.types import CallContext


def _engine(tmp_path: Path, clock: ManualClock) -> KinesisEngine:
    SqliteStore(tmp_path / "lamina.db").close()  # migrates
    return KinesisEngine(KinesisStore(tmp_path / "lamina.db"), clock, "us-east-1", "000000000000")


def _ctx() -> CallContext:
    return CallContext("us-east-1", "000000000000", "r", "http://localhost")


def test_iterators_expire_after_five_minutes(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock()
        engine = _engine(tmp_path, clock)
        provider = KinesisProvider(engine, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"a", "PartitionKey": "k"})
        it = provider.get_shard_iterator(
            _ctx(), {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}
        )["ShardIterator"]
        clock.advance(299)
        got = provider.get_records(_ctx(), {"ShardIterator": it})
        assert [r["Data"] for r in got["Records"]] == [b"a"]
        clock.advance(2)
        with pytest.raises(KinesisFault) as err:
            provider.get_records(_ctx(), {"ShardIterator": it})
        assert err.value.code == "ExpiredIteratorException"
        assert provider.get_records(_ctx(), {"ShardIterator": got["NextShardIterator"]})["Records"] == []
        await engine.close()

    asyncio.run(run())


def test_retention_sweeper_drops_old_records(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock()
        engine = _engine(tmp_path, clock)
        engine.start()
        provider = KinesisProvider(engine, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"old", "PartitionKey": "k"})
        clock.advance(23 * 3600)
        await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"new", "PartitionKey": "k"})
        for _ in range(70):  # past the 24 h of the first record: the sweeper runs once a minute
            clock.advance(60)
            await asyncio.sleep(0.01)
        shard = engine.streams["s"].shards[0]
        assert [r.data for r in shard.records] == [b"new"]
        assert engine.swept == 1
        await engine.close()
        again = _engine(tmp_path, clock)  # the store dropped it too
        again.load()
        assert [r.data for r in again.streams["s"].shards[0].records] == [b"new"]
        await again.close()

    asyncio.run(run())


def test_subscription_heartbeats_takeover_and_five_minute_lifetime(tmp_path: Path) -> None:
    """SubscribeToShard on the project clock: an empty event every 5 s, refused within 5 s of a successful call,
    taken over after (the old stream ends with ResourceInUseException), and the stream ends after 5 minutes."""

    async def run() -> None:
        clock = ManualClock()
        engine = _engine(tmp_path, clock)
        provider = KinesisProvider(engine, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        arn = engine.streams["s"].arn
        consumer = (await provider.register_stream_consumer(_ctx(), {"StreamARN": arn, "ConsumerName": "c"}))[
            "Consumer"
        ]["ConsumerARN"]
        params = {"ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "LATEST"}}
        frames = provider.subscribe_to_shard(_ctx(), params)["EventStream"]
        decoded = EventStreamBuffer()

        async def next_message() -> Any:
            decoded.add_data(await frames.__anext__())
            return next(iter(decoded))

        assert (await next_message()).headers[":event-type"] == "initial-response"
        first = await next_message()  # the first event comes at once
        assert json.loads(first.payload)["Records"] == []
        pending = asyncio.ensure_future(next_message())
        await clock.until_sleeping()
        clock.advance(4.9)
        await asyncio.sleep(0.01)
        assert not pending.done()
        await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"a", "PartitionKey": "k"})
        event = json.loads((await pending).payload)
        assert [base64.b64decode(r["Data"]) for r in event["Records"]] == [b"a"]
        pending = asyncio.ensure_future(next_message())
        await clock.until_sleeping()
        clock.advance(5)
        heartbeat = json.loads((await pending).payload)
        assert (
            heartbeat["Records"] == []
            and heartbeat["ContinuationSequenceNumber"] == event["Records"][0]["SequenceNumber"]
        )
        # A new call 9.9 s after the successful one takes over; the old stream ends with ResourceInUseException.
        taken = provider.subscribe_to_shard(_ctx(), {**params, "StartingPosition": {"Type": "TRIM_HORIZON"}})
        ended = await next_message()
        assert ended.headers[":message-type"] == "exception"
        assert ended.headers[":exception-type"] == "ResourceInUseException"
        with pytest.raises(StopAsyncIteration):
            await frames.__anext__()
        frames, decoded = taken["EventStream"], EventStreamBuffer()
        assert (await next_message()).headers[":event-type"] == "initial-response"
        assert [base64.b64decode(r["Data"]) for r in json.loads((await next_message()).payload)["Records"]] == [b"a"]
        with pytest.raises(KinesisFault) as err:  # within 5 s of that successful call: refused
            provider.subscribe_to_shard(_ctx(), params)
        assert err.value.code == "ResourceInUseException"
        count = 0
        while True:  # heartbeats until the 5 minutes are over, then the stream ends
            pending = asyncio.ensure_future(next_message())
            await clock.until_sleeping()
            clock.advance(5)
            try:
                await pending
            except StopAsyncIteration:
                break
            count += 1
        assert count == 59  # one every 5 s after the first, for 300 s
        assert provider.fan_out.subscriptions == 0
        await engine.close()

    asyncio.run(run())
