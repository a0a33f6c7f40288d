"""Acknowledged puts survive kill -9; streams, shards, retention and tags come back after a restart, and
sequence numbers keep increasing."""

from __future__ import annotations

from collections.abc import Callable

from tests.server import LaminaProcess


def test_records_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    client = server.client("kinesis")
    client.create_stream(StreamName="durable", ShardCount=2)
    client.increase_stream_retention_period(StreamName="durable", RetentionPeriodHours=72)
    client.add_tags_to_stream(StreamName="durable", Tags={"k": "v"})
    sent = client.put_records(
        StreamName="durable", Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"} for i in range(100)]
    )["Records"]
    last = client.put_record(StreamName="durable", Data=b"last", PartitionKey="p0")
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    client = again.client("kinesis")
    described = client.describe_stream(StreamName="durable")["StreamDescription"]
    assert described["RetentionPeriodHours"] == 72
    assert client.list_tags_for_stream(StreamName="durable")["Tags"] == [{"Key": "k", "Value": "v"}]
    got: list[bytes] = []
    for shard in described["Shards"]:
        it = client.get_shard_iterator(StreamName="durable", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        got += [r["Data"] for r in client.get_records(ShardIterator=it["ShardIterator"])["Records"]]
    assert sorted(got) == sorted([f"r{i}".encode() for i in range(100)] + [b"last"])
    assert len(sent) == 100
    after = client.put_record(StreamName="durable", Data=b"after", PartitionKey="p0")
    assert int(after["SequenceNumber"]) > int(last["SequenceNumber"])
