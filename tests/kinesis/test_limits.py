"""Kinesis's throughput limits: in virtual time through the provider (exact per-second counts), and through boto3
and the aws CLI on a real Lamina (AWS's error codes and messages)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lamina.clock import ManualClock
from lamina.services.kinesis.faults import KinesisFault
from lamina.services.kinesis.limits import Throughput
from lamina.services.kinesis.provider import KinesisProvider
from tests.aws_cli import AWS, json_runner
from tests.kinesis.test_units import _ctx, _engine
from tests.server import LaminaProcess

SHARD = "shardId-000000000000"
KIB = 1024


def _provider(tmp_path: Path, clock: ManualClock, enabled: bool = True) -> KinesisProvider:
    return KinesisProvider(_engine(tmp_path, clock), clock, Throughput(clock, enabled))


def _batch(n: int, size: int, key: str = "k") -> dict[str, Any]:
    return {"StreamName": "s", "Records": [{"Data": b"x" * size, "PartitionKey": key} for _ in range(n)]}


def test_put_limits_per_shard_per_second(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(1_700_000_000.0)
        provider = _provider(tmp_path, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        # 1,000 records/s: two full batches of 500 fit, the 1,001st record of the second does not.
        assert (await provider.put_records(_ctx(), _batch(500, 10)))["FailedRecordCount"] == 0
        assert (await provider.put_records(_ctx(), _batch(500, 10)))["FailedRecordCount"] == 0
        with pytest.raises(KinesisFault) as err:
            await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"a", "PartitionKey": "k"})
        assert err.value.code == "ProvisionedThroughputExceededException"
        assert err.value.message == f"Rate exceeded for shard {SHARD} in stream s under account 000000000000."
        clock.advance(1)  # the next second: room again
        await provider.put_record(_ctx(), {"StreamName": "s", "Data": b"a", "PartitionKey": "k"})
        clock.advance(1)
        # 1 MiB/s (data and partition key): 100 records of 10 KiB - 1 byte key fit ten times over... 102 do not.
        got = await provider.put_records(_ctx(), _batch(110, 10 * KIB - 1))
        assert got["FailedRecordCount"] == 8
        assert all("SequenceNumber" in r for r in got["Records"][:102])
        assert got["Records"][102] == {
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": f"Rate exceeded for shard {SHARD} in stream s under account 000000000000.",
        }
        shard = provider._engine.streams["s"].shards[0]
        assert len(shard.records) == 1000 + 1 + 102  # the failed ones were not stored

    asyncio.run(run())


def test_put_records_fails_only_the_hot_shard(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(1_700_000_000.0)
        provider = _provider(tmp_path, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 2})
        low, high = "0", str(2**128 - 1)  # explicit hash keys: one per shard
        for _ in range(2):
            await provider.put_records(_ctx(), {"StreamName": "s", "Records": [
                {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": low} for _ in range(500)]})  # fmt: skip
        mixed = [{"Data": b"y", "PartitionKey": "k", "ExplicitHashKey": h} for h in (low, high, low, high)]
        got = await provider.put_records(_ctx(), {"StreamName": "s", "Records": mixed})
        assert got["FailedRecordCount"] == 2
        assert [r.get("ShardId") for r in got["Records"]] == [None, "shardId-000000000001", None,
                                                              "shardId-000000000001"]  # fmt: skip

    asyncio.run(run())


def test_on_demand_stream_shares_a_larger_capacity(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(1_700_000_000.0)
        provider = _provider(tmp_path, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})
        # One hot key on an on-demand stream: 4,000 records/s, not a shard's 1,000.
        failed = [(await provider.put_records(_ctx(), _batch(500, 10)))["FailedRecordCount"] for _ in range(9)]
        assert failed == [0] * 8 + [500]

    asyncio.run(run())


def test_get_records_five_calls_and_two_mib_per_second(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(1_700_000_000.0)
        provider = _provider(tmp_path, clock)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        it = provider.get_shard_iterator(_ctx(), {"StreamName": "s", "ShardId": SHARD,
                                                  "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]  # fmt: skip
        for _ in range(5):
            provider.get_records(_ctx(), {"ShardIterator": it})
        with pytest.raises(KinesisFault) as err:
            provider.get_records(_ctx(), {"ShardIterator": it})
        assert err.value.code == "ProvisionedThroughputExceededException"
        assert err.value.message == f"Rate exceeded for Shard - 000000000000/s/{SHARD}"
        # 6 MiB written over 6 seconds, then read in one call: the next calls wait until the rate is under 2 MiB/s.
        for _ in range(6):
            clock.advance(1)
            await provider.put_records(_ctx(), _batch(4, 256 * KIB - 1))
        clock.advance(1)
        got = provider.get_records(_ctx(), {"ShardIterator": it})
        assert len(got["Records"]) == 24
        clock.advance(1.5)  # 4.5 MiB still owed: refused
        with pytest.raises(KinesisFault):
            provider.get_records(_ctx(), {"ShardIterator": got["NextShardIterator"]})
        clock.advance(0.6)  # 1.8 MiB owed: under a second's worth again
        assert provider.get_records(_ctx(), {"ShardIterator": got["NextShardIterator"]})["Records"] == []

    asyncio.run(run())


def test_limits_off_admits_everything(tmp_path: Path) -> None:
    async def run() -> None:
        clock = ManualClock(1_700_000_000.0)
        provider = _provider(tmp_path, clock, enabled=False)
        await provider.create_stream(_ctx(), {"StreamName": "s", "ShardCount": 1})
        failed = [(await provider.put_records(_ctx(), _batch(500, 10)))["FailedRecordCount"] for _ in range(4)]
        assert failed == [0, 0, 0, 0]

    asyncio.run(run())


def test_throughput_errors_through_boto3_and_cli(
    lamina: LaminaProcess, make_stream: Callable[..., str], tmp_path: Path
) -> None:
    kinesis = lamina.client("kinesis")
    name = make_stream(1)
    # 500 records of 9,000 bytes: 116 fit a second's 1 MiB, so even across a second's edge most of them fail.
    got = kinesis.put_records(StreamName=name, Records=[{"Data": b"x" * 9000, "PartitionKey": "k"}] * 500)
    assert got["FailedRecordCount"] >= 500 - 2 * 116
    failed = [r for r in got["Records"] if "ErrorCode" in r]
    assert failed[0] == {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": f"Rate exceeded for shard {SHARD} in stream {name} under account 000000000000.",
    }
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=SHARD, ShardIteratorType="LATEST")["ShardIterator"]
    with pytest.raises(ClientError) as err:
        for _ in range(100):  # at most 5 a second: refused as soon as 6 calls fall in one second
            kinesis.get_records(ShardIterator=it)
    assert err.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if not AWS.exists():
        return
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"Data": "x" * 9000, "PartitionKey": "k"}] * 300))  # CLI v1: Data is raw text
    out = json_runner(tmp_path, lamina.url, "kinesis")("put-records", "--stream-name", name, "--records",
                                                       f"file://{records}")  # fmt: skip
    assert out["FailedRecordCount"] >= 300 - 2 * 116
    assert out["Records"][-1]["ErrorCode"] == "ProvisionedThroughputExceededException"


def test_serve_with_kinesis_limits_off(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina("--kinesis-limits", "off")
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="free", ShardCount=1)
    # 4.5 MB into one shard at once: four times a shard's second with the limits on; all stored with them off.
    got = kinesis.put_records(StreamName="free", Records=[{"Data": b"x" * 9000, "PartitionKey": "k"}] * 500)
    assert got["FailedRecordCount"] == 0
    it = kinesis.get_shard_iterator(StreamName="free", ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")
    for _ in range(10):  # twice the 5 calls a second
        assert len(kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]) == 500
