"""Tables through boto3: create/describe/update/delete/list, indexes, billing, tags, TTL, waiters; the
CreateTable answer compared with the recorded AWS entry (test_lambda_integration_dynamodbstreams)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

RECORDED = (
    Path(__file__).parents[1]
    / "conformance/aws-recorded/services__lambda___event_source_mapping__test_lambda_integration_dynamodbstreams"
    ".snapshot.json"
)


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_table_answer_has_the_recorded_shape(dynamodb: Any, make_table: Any) -> None:
    recorded = json.loads(RECORDED.read_text())
    entry = next(iter(recorded.values()))["recorded-content"]["create-table-result"]["TableDescription"]
    name = f"rec-{uuid.uuid4().hex[:10]}"
    answer = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "my_partition_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "my_partition_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    try:
        assert set(answer) == set(entry)
        for field in ("AttributeDefinitions", "KeySchema", "BillingModeSummary", "ProvisionedThroughput"):
            assert answer[field] == entry[field]
        assert answer["TableStatus"] == entry["TableStatus"] == "CREATING"
        assert answer["ItemCount"] == 0 and answer["TableSizeBytes"] == 0
        assert answer["DeletionProtectionEnabled"] is False
        assert answer["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    finally:
        dynamodb.delete_table(TableName=name)


def test_waiters_describe_and_delete(dynamodb: Any, make_table: Any) -> None:
    name = make_table("N")
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}
    assert name in dynamodb.list_tables()["TableNames"]
    deleted = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    with pytest.raises(ClientError) as excinfo:
        dynamodb.describe_table(TableName=name)
    assert _error(excinfo) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {name} not found",
        400,
    )


def test_create_existing_table_is_resource_in_use(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    with pytest.raises(ClientError) as excinfo:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert _error(excinfo) == ("ResourceInUseException", f"Table already exists: {name}", 400)


def test_bad_definitions_are_refused(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        dynamodb.create_table(
            TableName="bad-defs",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert _error(excinfo)[0] == "ValidationException"
    assert "Some index key attributes are not defined in AttributeDefinitions" in _error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        dynamodb.create_table(
            TableName="bad-billing",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
    assert _error(excinfo)[1] == (
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified "
        "when BillingMode is PROVISIONED"
    )
    assert "bad-defs" not in dynamodb.list_tables()["TableNames"]


def test_indexes_billing_and_update(dynamodb: Any, make_table: Any) -> None:
    name = make_table(
        "S",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        more_definitions=[{"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 7,
    }
    gsi = table["GlobalSecondaryIndexes"][0]
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["Projection"]["NonKeyAttributes"] == ["x"]
    assert gsi["IndexArn"] == f"{table['TableArn']}/index/by-g"
    assert table["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    dynamodb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 9})
    assert dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 9
    dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    dynamodb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-h",
                    "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            },
            {"Delete": {"IndexName": "by-g"}},
        ],
    )
    names = [i["IndexName"] for i in dynamodb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]]
    assert names == ["by-h"]


def test_list_tables_pages(dynamodb: Any, make_table: Any) -> None:
    made = sorted(make_table() for _ in range(3))
    pages = dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
    listed = [n for page in pages for n in page["TableNames"]]
    assert [n for n in listed if n in made] == made


def test_tags_and_ttl(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}])
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    answer = dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    with pytest.raises(ClientError) as excinfo:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"})
    assert _error(excinfo) == ("ValidationException", "TimeToLive is already enabled", 400)


def test_deletion_protection(dynamodb: Any, make_table: Any) -> None:
    name = make_table(DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as excinfo:
        dynamodb.delete_table(TableName=name)
    assert _error(excinfo)[0] == "ValidationException"
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=name)
