"""DynamoDB Streams through boto3: records for INSERT/MODIFY/REMOVE in commit order, the four view types,
iterators, and the record shape compared with the recorded AWS entry (test_lambda_integration_dynamodbstreams)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import LaminaProcess

RECORDED = (
    Path(__file__).parents[1]
    / "conformance/aws-recorded/services__lambda___event_source_mapping__test_lambda_integration_dynamodbstreams"
    ".snapshot.json"
)


@pytest.fixture(scope="session")
def streams(lamina: LaminaProcess) -> Any:
    return lamina.client("dynamodbstreams")


def _records(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **extra: Any) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def test_record_shape_matches_the_recorded_entry(dynamodb: Any, streams: Any, make_table: Any) -> None:
    recorded = json.loads(RECORDED.read_text())
    expected = next(iter(recorded.values()))["recorded-content"]["event_logs"][0]["Records"][0]
    name = f"s-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "my_partition_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "my_partition_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    try:
        arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        dynamodb.put_item(
            TableName=name, Item={"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"foobar"}}
        )
        (record,) = _records(streams, arn)
        assert set(record) == set(expected) - {"eventSourceARN"}  # the mapping adds eventSourceARN
        assert set(record["dynamodb"]) == set(expected["dynamodb"])
        for field in ("eventName", "eventVersion", "eventSource"):
            assert record[field] == expected[field]
        assert record["dynamodb"]["Keys"] == expected["dynamodb"]["Keys"]
        assert record["dynamodb"]["NewImage"]["binary_key"]["B"] == b"foobar"
        assert record["dynamodb"]["SizeBytes"] == expected["dynamodb"]["SizeBytes"] == 70
    finally:
        dynamodb.delete_table(TableName=name)


def test_changes_in_commit_order_with_old_and_new_images(dynamodb: Any, streams: Any, make_table: Any) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert streams.list_streams(TableName=name)["Streams"][0]["StreamArn"] == arn
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    dynamodb.update_item(
        TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )  # fmt: skip
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert "OldImage" not in records[0]["dynamodb"] and records[0]["dynamodb"]["NewImage"]["v"] == {"N": "1"}
    assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"} and records[1]["dynamodb"]["NewImage"]["v"] == {
        "N": "2"
    }
    assert "NewImage" not in records[2]["dynamodb"] and records[2]["dynamodb"]["OldImage"]["v"] == {"N": "2"}
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers)
    after = _records(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=records[0]["dynamodb"]["SequenceNumber"])
    assert [r["eventName"] for r in after] == ["MODIFY", "REMOVE"]
    assert _records(streams, arn, "LATEST") == []


def test_keys_only_and_failed_writes_leave_no_record(dynamodb: Any, streams: Any, make_table: Any) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    with pytest.raises(ClientError):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "k"}}, ConditionExpression="attribute_not_exists(pk)")
    (record,) = _records(streams, arn)
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "k"}} and "NewImage" not in record["dynamodb"]


def test_bad_iterators_and_unknown_streams(streams: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        streams.get_records(ShardIterator="not-an-iterator")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        streams.describe_stream(
            StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/none/stream/2024-01-01T00:00:00.000"
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_stream_records_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    client = server.client("dynamodb")
    client.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for i in range(5):
        client.put_item(TableName="streamed", Item={"pk": {"S": f"k{i}"}})
    arn = client.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    records = _records(again.client("dynamodbstreams"), arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"k{i}" for i in range(5)]
