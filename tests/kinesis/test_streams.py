"""Kinesis through boto3: streams, shards and hash ranges, puts, iterators of every type, retention, tags and
AWS's errors."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"


def _iterator(
    kinesis: Any, name: str, shard: str = "shardId-000000000000", kind: str = "TRIM_HORIZON", **kw: Any
) -> str:
    it: str = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]
    return it


def test_create_describe_list_delete(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(3)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert described["StreamARN"] == ARN + name
    assert described["StreamStatus"] == "ACTIVE"
    assert described["RetentionPeriodHours"] == 24
    assert described["HasMoreShards"] is False
    assert described["EncryptionType"] == "NONE"
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in
              described["Shards"]]  # fmt: skip
    # AWS's even split for three shards (the figures a real CreateStream answers)
    assert ranges == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, 2**128 - 1),
    ]
    assert [s["ShardId"] for s in described["Shards"]] == [f"shardId-00000000000{i}" for i in range(3)]
    summary = kinesis.describe_stream_summary(StreamARN=ARN + name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert name in kinesis.list_streams()["StreamNames"]
    assert len(kinesis.list_shards(StreamName=name)["Shards"]) == 3
    page = kinesis.list_shards(StreamName=name, MaxResults=2)
    assert len(page["Shards"]) == 2
    assert [s["ShardId"] for s in kinesis.list_shards(NextToken=page["NextToken"])["Shards"]] == [
        "shardId-000000000002"
    ]
    kinesis.delete_stream(StreamName=name)
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream(StreamName=name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == f"Stream {name} under account 000000000000 not found."


def test_on_demand_stream_has_four_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_create_twice_is_in_use(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    with pytest.raises(ClientError) as err:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_partition_keys_go_to_the_shard_of_their_md5(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(4)
    shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    keys = [f"key-{i}" for i in range(40)]
    put = kinesis.put_records(StreamName=name, Records=[{"Data": k.encode(), "PartitionKey": k} for k in keys])
    assert put["FailedRecordCount"] == 0
    for key, result in zip(keys, put["Records"], strict=True):
        h = int(hashlib.md5(key.encode()).hexdigest(), 16)
        (owner,) = [s for s in shards if int(s["HashKeyRange"]["StartingHashKey"]) <= h
                    <= int(s["HashKeyRange"]["EndingHashKey"])]  # fmt: skip
        assert result["ShardId"] == owner["ShardId"]
    explicit = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="any", ExplicitHashKey=str(2**128 - 1))
    assert explicit["ShardId"] == "shardId-000000000003"
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="any", ExplicitHashKey=str(2**128))
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_sequence_numbers_increase_and_iterators(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    seqs = [kinesis.put_record(StreamName=name, Data=f"d{i}".encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(5)]  # fmt: skip
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs) and len(set(seqs)) == 5
    assert all(len(s) == 56 for s in seqs)
    got = kinesis.get_records(ShardIterator=_iterator(kinesis, name))
    assert [r["Data"] for r in got["Records"]] == [f"d{i}".encode() for i in range(5)]
    assert got["Records"][0]["PartitionKey"] == "k"
    assert isinstance(got["Records"][0]["ApproximateArrivalTimestamp"], datetime.datetime)
    assert got["MillisBehindLatest"] == 0
    again = kinesis.get_records(ShardIterator=got["NextShardIterator"])
    assert again["Records"] == []
    at = kinesis.get_records(ShardIterator=_iterator(kinesis, name, kind="AT_SEQUENCE_NUMBER",
                                                     StartingSequenceNumber=seqs[2]))  # fmt: skip
    assert [r["SequenceNumber"] for r in at["Records"]] == seqs[2:]
    after = kinesis.get_records(ShardIterator=_iterator(kinesis, name, kind="AFTER_SEQUENCE_NUMBER",
                                                        StartingSequenceNumber=seqs[2]))  # fmt: skip
    assert [r["SequenceNumber"] for r in after["Records"]] == seqs[3:]
    latest = _iterator(kinesis, name, kind="LATEST")
    assert kinesis.get_records(ShardIterator=latest)["Records"] == []
    kinesis.put_record(StreamName=name, Data=b"new", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"new"]
    limited = kinesis.get_records(ShardIterator=_iterator(kinesis, name), Limit=2)
    assert len(limited["Records"]) == 2
    assert limited["MillisBehindLatest"] >= 0
    stamp = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    future = _iterator(kinesis, name, kind="AT_TIMESTAMP", Timestamp=stamp)
    assert kinesis.get_records(ShardIterator=future)["Records"] == []
    past = _iterator(kinesis, name, kind="AT_TIMESTAMP", Timestamp=stamp - datetime.timedelta(hours=2))
    assert len(kinesis.get_records(ShardIterator=past)["Records"]) == 6


def test_bad_iterators_and_unknown_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    with pytest.raises(ClientError) as err:
        kinesis.get_records(ShardIterator="not-an-iterator")
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        _iterator(kinesis, name, shard="shardId-000000000009")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName="missing-" + name, Data=b"x", PartitionKey="k")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_retention_and_tags(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1, Tags={"team": "a"})
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["RetentionPeriodHours"] == 48
    with pytest.raises(ClientError) as err:
        kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=10)
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "Minimum allowed retention period is 24 hours" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=30)
    kinesis.decrease_stream_retention_period(StreamARN=ARN + name, RetentionPeriodHours=24)
    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "dev"})
    assert kinesis.list_tags_for_stream(StreamName=name)["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "a"},
    ]
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["team"])
    kinesis.tag_resource(ResourceARN=ARN + name, Tags={"x": "1"})
    assert kinesis.list_tags_for_resource(ResourceARN=ARN + name)["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "x", "Value": "1"},
    ]
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    put = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    assert put["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["EncryptionType"] == "NONE"


def test_stream_not_exists_waiter(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_split_merge_and_update_shard_count(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    before = kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-00000000000{i}" for i in range(3)]
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    assert shards[1]["ParentShardId"] == shards[2]["ParentShardId"] == "shardId-000000000000"
    assert shards[1]["HashKeyRange"]["EndingHashKey"] == str(2**127 - 1)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 2
    low = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey="1")
    assert low["ShardId"] == "shardId-000000000001"
    assert int(low["SequenceNumber"]) > int(before["SequenceNumber"])
    # the closed parent: its records, then no NextShardIterator and its children
    it = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    got = kinesis.get_records(ShardIterator=it["ShardIterator"])
    assert [r["Data"] for r in got["Records"]] == [b"before"]
    assert "NextShardIterator" not in got
    assert {c["ShardId"] for c in got["ChildShards"]} == {"shardId-000000000001", "shardId-000000000002"}
    with pytest.raises(ClientError) as err:
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    kinesis.merge_shards(
        StreamName=name, ShardToMerge="shardId-000000000001", AdjacentShardToMerge="shardId-000000000002"
    )
    merged = kinesis.list_shards(StreamName=name)["Shards"][-1]
    assert (merged["ParentShardId"], merged["AdjacentParentShardId"]) == (
        "shardId-000000000001",
        "shardId-000000000002",
    )
    assert merged["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    scaled = kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (scaled["CurrentShardCount"], scaled["TargetShardCount"]) == (1, 2)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_stream_consumers(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(1)
    registered = kinesis.register_stream_consumer(StreamARN=ARN + name, ConsumerName="efo")["Consumer"]
    assert registered["ConsumerARN"].startswith(ARN + name + "/consumer/efo:")
    assert registered["ConsumerStatus"] == "CREATING"
    described = kinesis.describe_stream_consumer(ConsumerARN=registered["ConsumerARN"])["ConsumerDescription"]
    assert described["ConsumerStatus"] == "ACTIVE" and described["StreamARN"] == ARN + name
    assert [c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=ARN + name)["Consumers"]] == ["efo"]
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["ConsumerCount"] == 1
    with pytest.raises(ClientError) as err:
        kinesis.register_stream_consumer(StreamARN=ARN + name, ConsumerName="efo")
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    kinesis.deregister_stream_consumer(StreamARN=ARN + name, ConsumerName="efo")
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream_consumer(StreamARN=ARN + name, ConsumerName="efo")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_update_stream_mode(kinesis: Any, make_stream: Callable[..., str]) -> None:
    """UpdateStreamMode by ARN: the mode changes, the open shards stay; unknown streams are AWS's
    ResourceNotFoundException and an ARN off the model's pattern a ValidationException, nothing changed."""
    name = make_stream(2)
    arn = ARN + name
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"} and summary["OpenShardCount"] == 2
    assert summary["StreamStatus"] == "ACTIVE"
    listed = kinesis.list_streams()["StreamSummaries"]
    assert [s["StreamModeDetails"] for s in listed if s["StreamName"] == name] == [{"StreamMode": "ON_DEMAND"}]
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")  # writes go on in the new mode
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"} and summary["OpenShardCount"] == 2

    with pytest.raises(ClientError) as err:
        kinesis.update_stream_mode(StreamARN=ARN + "nope", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "Stream nope under account 000000000000 not found."
    with pytest.raises(ClientError) as err:
        kinesis.update_stream_mode(
            StreamARN="arn:aws:kinesis:us-east-1:x", StreamModeDetails={"StreamMode": "ON_DEMAND"}
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"  # the model's ARN pattern, as AWS checks it
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamModeDetails"] == {
        "StreamMode": "PROVISIONED"
    }
