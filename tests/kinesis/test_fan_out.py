"""SubscribeToShard through boto3: the event stream botocore reads (initial-response, then SubscribeToShardEvent
with records, ContinuationSequenceNumber and MillisBehindLatest), the takeover rule and AWS's errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

SHARD = "shardId-000000000000"


def _consumer(kinesis: Any, name: str) -> str:
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    consumer: str = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="efo")["Consumer"]["ConsumerARN"]
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    assert kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE"
    return consumer


def _read(stream: Any, want: int, events: list[dict[str, Any]]) -> threading.Thread:
    def read() -> None:
        seen = 0
        for event in stream:
            body = event["SubscribeToShardEvent"]
            events.append(body)
            seen += len(body["Records"])
            if seen >= want:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def test_subscribe_pushes_records_from_trim_horizon_and_live(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    consumer = _consumer(kinesis, name)
    first = kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")
    answer = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=SHARD, StartingPosition={"Type": "TRIM_HORIZON"})
    # A second call within 5 seconds of the successful one: refused, as AWS does.
    with pytest.raises(ClientError) as err:
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=SHARD, StartingPosition={"Type": "LATEST"})
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    events: list[dict[str, Any]] = []
    reader = _read(answer["EventStream"], 3, events)
    for n in range(2):
        kinesis.put_record(StreamName=name, Data=f"live {n}".encode(), PartitionKey="k")
    reader.join(20)
    answer["EventStream"].close()
    records = [r for e in events for r in e["Records"]]
    assert [r["Data"] for r in records] == [b"before", b"live 0", b"live 1"]
    assert records[0]["SequenceNumber"] == first["SequenceNumber"]
    assert records[0]["PartitionKey"] == "k"
    assert records[0]["ApproximateArrivalTimestamp"].year >= 2024
    last = [e for e in events if e["Records"]][-1]
    assert last["ContinuationSequenceNumber"] == records[-1]["SequenceNumber"]
    assert last["MillisBehindLatest"] == 0


def test_subscribe_after_sequence_number_resumes(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    consumer = _consumer(kinesis, name)
    put = [kinesis.put_record(StreamName=name, Data=f"r{n}".encode(), PartitionKey="k") for n in range(3)]
    answer = kinesis.subscribe_to_shard(
        ConsumerARN=consumer,
        ShardId=SHARD,
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": put[0]["SequenceNumber"]},
    )
    events: list[dict[str, Any]] = []
    _read(answer["EventStream"], 2, events).join(20)
    answer["EventStream"].close()
    assert [r["Data"] for e in events for r in e["Records"]] == [b"r1", b"r2"]


def test_subscribe_closed_shard_ends_with_child_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    consumer = _consumer(kinesis, name)
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    kinesis.split_shard(StreamName=name, ShardToSplit=SHARD, NewStartingHashKey=str(2**127))
    answer = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=SHARD, StartingPosition={"Type": "TRIM_HORIZON"})
    events = [e["SubscribeToShardEvent"] for e in answer["EventStream"]]  # the stream ends by itself
    assert [r["Data"] for e in events for r in e["Records"]] == [b"x"]
    assert "ContinuationSequenceNumber" not in events[-1]
    assert [c["ShardId"] for c in events[-1]["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert events[-1]["ChildShards"][0]["ParentShards"] == [SHARD]


def test_subscribe_errors(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    consumer = _consumer(kinesis, name)
    with pytest.raises(ClientError) as err:
        kinesis.subscribe_to_shard(
            ConsumerARN=consumer, ShardId="shardId-000000000009", StartingPosition={"Type": "LATEST"}
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == (
        f"Shard shardId-000000000009 in stream {name} under account 000000000000 does not exist"
    )
    kinesis.deregister_stream_consumer(ConsumerARN=consumer)
    with pytest.raises(ClientError) as err:
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=SHARD, StartingPosition={"Type": "LATEST"})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        kinesis.subscribe_to_shard(
            ConsumerARN=consumer.replace("/consumer/efo", "/consumer/nope"),
            ShardId=SHARD,
            StartingPosition={"Type": "AT_SEQUENCE_NUMBER"},
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
