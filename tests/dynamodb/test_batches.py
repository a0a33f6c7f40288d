"""BatchGetItem/BatchWriteItem and transactions through boto3: limits, all-or-nothing, cancellation reasons,
idempotent tokens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def test_batch_write_and_get(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    dynamodb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _key(f"k{i}")}} for i in range(25)]})
    got = dynamodb.batch_get_item(RequestItems={name: {"Keys": [_key(f"k{i}") for i in range(25)]}})
    assert len(got["Responses"][name]) == 25 and got["UnprocessedKeys"] == {}
    dynamodb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": _key(f"k{i}")}} for i in range(10)]})
    assert dynamodb.scan(TableName=name, Select="COUNT")["Count"] == 15


def test_batch_limits(dynamodb: Any, make_table: Any) -> None:
    name, other = make_table(), make_table()
    too_many = {
        name: [{"PutRequest": {"Item": _key(f"a{i}")}} for i in range(13)],
        other: [{"PutRequest": {"Item": _key(f"b{i}")}} for i in range(13)],
    }
    with pytest.raises(ClientError) as excinfo:
        dynamodb.batch_write_item(RequestItems=too_many)
    assert excinfo.value.response["Error"]["Message"] == "Too many items requested for the BatchWriteItem call"
    with pytest.raises(ClientError) as excinfo:
        dynamodb.batch_get_item(
            RequestItems={
                name: {"Keys": [_key(f"a{i}") for i in range(60)]},
                other: {"Keys": [_key(f"b{i}") for i in range(60)]},
            }
        )
    assert excinfo.value.response["Error"]["Message"] == "Too many items requested for the BatchGetItem call"
    with pytest.raises(ClientError) as excinfo:
        dynamodb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _key("d")}}] * 2})
    assert excinfo.value.response["Error"]["Message"] == "Provided list of item keys contains duplicates"
    assert dynamodb.scan(TableName=name)["Count"] == 0 and dynamodb.scan(TableName=other)["Count"] == 0


def test_transaction_is_all_or_nothing(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "guard"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as excinfo:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _key("new")}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _key("guard"),
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    error = excinfo.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    )
    assert error["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"pk": {"S": "guard"}, "v": {"N": "1"}},
        },
    ]
    assert "Item" not in dynamodb.get_item(TableName=name, Key=_key("new"))
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": _key("new")}},
            {
                "Update": {
                    "TableName": name,
                    "Key": _key("guard"),
                    "UpdateExpression": "SET v = v + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": name, "Key": _key("absent")}},
        ]
    )
    got = dynamodb.transact_get_items(
        TransactItems=[{"Get": {"TableName": name, "Key": _key(k)}} for k in ("new", "guard", "absent")]
    )["Responses"]
    assert got == [{"Item": _key("new")}, {"Item": {"pk": {"S": "guard"}, "v": {"N": "2"}}}, {}]


def test_one_item_twice_in_a_transaction_is_refused(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    with pytest.raises(ClientError) as excinfo:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _key("x")}},
                {"Delete": {"TableName": name, "Key": _key("x")}},
            ]
        )
    assert excinfo.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item"
    )


def test_client_request_token_is_idempotent(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "n"}, "v": {"N": "0"}})
    token = uuid.uuid4().hex
    update = {
        "Update": {
            "TableName": name,
            "Key": _key("n"),
            "UpdateExpression": "ADD v :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    for _ in range(3):
        dynamodb.transact_write_items(TransactItems=[update], ClientRequestToken=token)
    assert dynamodb.get_item(TableName=name, Key=_key("n"))["Item"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as excinfo:
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": name, "Item": _key("other")}}], ClientRequestToken=token
        )
    assert excinfo.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
