"""Items through boto3's Table API and the client: Put/Get/Update/Delete, expressions, return values,
conditions, and the type rules and messages AWS enforces (nothing changed on a refusal)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_put_get_delete_with_the_table_api(resource: Any, make_table: Any) -> None:
    table = resource.Table(make_table("N"))
    item = {"pk": "a", "sk": 1, "n": Decimal("01.50"), "b": b"\x00\xff", "m": {"l": [1, "x", None, True]}, "ss": {"p"}}
    table.put_item(Item=item)
    got = table.get_item(Key={"pk": "a", "sk": 1})["Item"]
    assert got["n"] == Decimal("1.5") and got["b"].value == b"\x00\xff" and got["m"]["l"] == [1, "x", None, True]
    assert got["ss"] == {"p"}
    old = table.put_item(Item={"pk": "a", "sk": 1, "v": 2}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["n"] == Decimal("1.5")
    assert table.get_item(Key={"pk": "a", "sk": 1}, ProjectionExpression="v")["Item"] == {"v": 2}
    gone = table.delete_item(Key={"pk": "a", "sk": 1}, ReturnValues="ALL_OLD")["Attributes"]
    assert gone == {"pk": "a", "sk": 1, "v": 2}
    assert "Item" not in table.get_item(Key={"pk": "a", "sk": 1})


def test_update_expression_actions(resource: Any, make_table: Any) -> None:
    table = resource.Table(make_table())
    table.put_item(
        Item={"pk": "u", "count": 5, "tags": {"a", "b"}, "more": {"a", "z"}, "l": [1, 2, 3], "k": [7, 8]}
        | {"m": {"x": 1}, "gone": 1}
    )
    new = table.update_item(
        Key={"pk": "u"},
        UpdateExpression="SET #c = #c + :one, fresh = if_not_exists(fresh, :zero) - :one, l = list_append(l, :more), "
        "m.y = :one REMOVE gone, k[0] ADD tags :t, tally :one DELETE more :a",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": 1, ":zero": 0, ":more": [4], ":t": {"c"}, ":a": {"a"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert new["count"] == 6 and new["fresh"] == -1 and new["tally"] == 1
    assert new["l"] == [1, 2, 3, 4] and new["k"] == [8] and new["m"] == {"x": 1, "y": 1} and "gone" not in new
    assert new["tags"] == {"a", "b", "c"} and new["more"] == {"z"}
    updated = table.update_item(
        Key={"pk": "u"},
        UpdateExpression="SET #c = :v",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":v": 100},
        ReturnValues="UPDATED_OLD",
    )["Attributes"]
    assert updated == {"count": 6}


def test_update_creates_the_item_and_conditions_hold(resource: Any, make_table: Any) -> None:
    table = resource.Table(make_table())
    table.update_item(Key={"pk": "c"}, UpdateExpression="ADD hits :one", ExpressionAttributeValues={":one": 1})
    table.update_item(
        Key={"pk": "c"},
        UpdateExpression="ADD hits :one",
        ConditionExpression=Attr("hits").lt(5) & Attr("pk").begins_with("c"),
        ExpressionAttributeValues={":one": 1},
    )
    assert table.get_item(Key={"pk": "c"})["Item"]["hits"] == 2
    with pytest.raises(ClientError) as excinfo:
        table.put_item(
            Item={"pk": "c"},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert _error(excinfo) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert excinfo.value.response["Item"] == {"pk": {"S": "c"}, "hits": {"N": "2"}}
    assert table.get_item(Key={"pk": "c"})["Item"]["hits"] == 2  # nothing changed


def test_legacy_expected_and_attribute_updates(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "l"}, "v": {"N": "1"}})
    dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "l"}},
        AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}}, "w": {"Action": "PUT", "Value": {"S": "x"}}},
        Expected={"v": {"Value": {"N": "1"}}},
    )
    item = dynamodb.get_item(TableName=name, Key={"pk": {"S": "l"}})["Item"]
    assert item == {"pk": {"S": "l"}, "v": {"N": "3"}, "w": {"S": "x"}}


REFUSALS = [
    (
        {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}, ":u": {"S": "y"}}},
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}",
    ),
    (
        {
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeNames": {"#n": "x"},
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
    ),
    (
        {"UpdateExpression": "SET name = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name",
    ),
    (
        {"UpdateExpression": "SET a = :w", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :w",
    ),
    (
        {"UpdateExpression": "SET #x = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #x",
    ),
    (
        {"UpdateExpression": "SET a = :v SET b = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
    ),
    (
        {"UpdateExpression": "SET a = :v, a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
        "paths; path one: [a], path two: [a]",
    ),
    (
        {"UpdateExpression": "ADD a :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
        "STRING",
    ),
    (
        {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"N": "1" * 39}}},
        "Attempting to store more than 38 significant digits in a Number",
    ),
    (
        {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"N": "1E+126"}}},
        "Number overflow. Attempting to store a number with magnitude larger than supported range",
    ),
    (
        {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"SS": []}}},
        "One or more parameter values were invalid: An string set  may not be empty",
    ),
    (
        {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"SS": ["x", "x"]}}},
        "One or more parameter values were invalid: Input collection [x, x] contains duplicates.",
    ),
    (
        {"UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
    ),
    (
        {"UpdateExpression": "SET a = b + :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
        "The provided expression refers to an attribute that does not exist in the item",
    ),
    (
        {
            "UpdateExpression": "SET a = :v",
            "ConditionExpression": "foo(a)",
            "ExpressionAttributeValues": {":v": {"N": "1"}},
        },
        "Invalid ConditionExpression: Invalid function name; function: foo",
    ),
    (
        {"UpdateExpression": "SET a = :v", "ConditionExpression": "", "ExpressionAttributeValues": {":v": {"N": "1"}}},
        "Invalid ConditionExpression: The expression can not be empty;",
    ),
]


@pytest.mark.parametrize(("extra", "message"), REFUSALS)
def test_update_refusals_leave_the_item_alone(dynamodb: Any, make_table: Any, extra: Any, message: str) -> None:
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}, "keep": {"S": "me"}})
    with pytest.raises(ClientError) as excinfo:
        dynamodb.update_item(TableName=name, Key={"pk": {"S": "r"}}, **extra)
    assert _error(excinfo) == ("ValidationException", message)
    assert dynamodb.get_item(TableName=name, Key={"pk": {"S": "r"}})["Item"] == {"pk": {"S": "r"}, "keep": {"S": "me"}}


def test_syntax_errors_name_the_token(dynamodb: Any, make_table: Any) -> None:
    name = make_table()
    with pytest.raises(ClientError) as excinfo:
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "r"}},
            UpdateExpression="SET a = = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    code, message = _error(excinfo)
    assert code == "ValidationException"
    assert message.startswith('Invalid UpdateExpression: Syntax error; token: "="')


def test_key_and_item_rules(dynamodb: Any, make_table: Any) -> None:
    name = make_table("N")
    cases = [
        (
            {"pk": {"S": ""}, "sk": {"N": "1"}},
            "One or more parameter values are not valid. The AttributeValue for a key "
            "attribute cannot contain an empty string value. Key: pk",
        ),
        ({"pk": {"S": "a"}}, "One or more parameter values were invalid: Missing the key sk in the item"),
        (
            {"pk": {"N": "1"}, "sk": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "big": {"S": "x" * 410_000}},
            "Item size has exceeded the maximum allowed size",
        ),
        (
            {"pk": {"S": "x" * 2049}, "sk": {"N": "1"}},
            "One or more parameter values were invalid: Size of hashkey has "
            "exceeded the maximum size limit of2048 bytes",
        ),
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "abc"}}, "A value provided cannot be converted into a number"),
    ]
    for item, message in cases:
        with pytest.raises(ClientError) as excinfo:
            dynamodb.put_item(TableName=name, Item=item)
        assert _error(excinfo) == ("ValidationException", message)
    with pytest.raises(ClientError) as excinfo:
        dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert _error(excinfo) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as excinfo:
        dynamodb.get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
    assert _error(excinfo) == ("ResourceNotFoundException", "Requested resource not found")
    assert dynamodb.scan(TableName=name)["Count"] == 0
