"""The engine and provider in virtual time: iterator expiry after 5 minutes, the retention sweeper."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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
