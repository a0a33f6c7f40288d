"""Query and Scan through boto3: key conditions, order, pages, filters, COUNT, indexes, segments."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

GSI = {
    "more_definitions": [{"AttributeName": "g", "AttributeType": "S"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
}


@pytest.fixture
def filled(resource: Any, make_table: Any) -> Any:
    table = resource.Table(make_table("N", **GSI))
    with table.batch_writer() as writer:
        for p in ("a", "b"):
            for i in range(10):
                writer.put_item(Item={"pk": p, "sk": i, "g": "even" if i % 2 == 0 else "odd", "v": f"{p}{i}"})
    return table


def test_key_conditions_and_order(filled: Any) -> None:
    items = filled.query(KeyConditionExpression=Key("pk").eq("a") & Key("sk").between(2, 5))["Items"]
    assert [i["sk"] for i in items] == [2, 3, 4, 5]
    items = filled.query(KeyConditionExpression=Key("pk").eq("a") & Key("sk").gt(6), ScanIndexForward=False)["Items"]
    assert [i["sk"] for i in items] == [9, 8, 7]


def test_pages_follow_last_evaluated_key(filled: Any) -> None:
    seen: list[int] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq("b"), "Limit": 3}
    while True:
        page = filled.query(**kwargs)
        seen += [int(i["sk"]) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        assert set(page["LastEvaluatedKey"]) == {"pk", "sk"}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == list(range(10))


def test_filter_and_count(filled: Any) -> None:
    page = filled.query(KeyConditionExpression=Key("pk").eq("a"), FilterExpression=Attr("sk").gte(7), Limit=8)
    assert page["ScannedCount"] == 8 and page["Count"] == 1
    counted = filled.query(KeyConditionExpression=Key("pk").eq("a"), Select="COUNT")
    assert counted["Count"] == 10 and "Items" not in counted


def test_begins_with_on_strings(resource: Any, make_table: Any) -> None:
    table = resource.Table(make_table("S"))
    for sk in ("order#1", "order#2", "profile"):
        table.put_item(Item={"pk": "u", "sk": sk})
    items = table.query(KeyConditionExpression=Key("pk").eq("u") & Key("sk").begins_with("order#"))["Items"]
    assert [i["sk"] for i in items] == ["order#1", "order#2"]


def test_query_on_an_index_projects_keys_only(filled: Any) -> None:
    items = filled.query(IndexName="by-g", KeyConditionExpression=Key("g").eq("odd") & Key("sk").lt(4))["Items"]
    assert sorted((i["pk"], int(i["sk"])) for i in items) == [("a", 1), ("a", 3), ("b", 1), ("b", 3)]
    assert all(set(i) == {"pk", "sk", "g"} for i in items)
    with pytest.raises(ClientError) as excinfo:
        filled.query(IndexName="nope", KeyConditionExpression=Key("g").eq("odd"))
    assert excinfo.value.response["Error"]["Message"] == "The table does not have the specified index: nope"


def test_key_condition_refusals(filled: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        filled.query(KeyConditionExpression=Key("sk").eq(1))
    assert excinfo.value.response["Error"]["Message"] == "Query condition missed key schema element: pk"
    with pytest.raises(ClientError) as excinfo:
        filled.query(KeyConditionExpression=Key("pk").eq(1))
    assert excinfo.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )


def test_scan_segments_cover_the_table_once(filled: Any) -> None:
    seen: list[tuple[str, int]] = []
    for segment in range(3):
        page = filled.scan(Segment=segment, TotalSegments=3)
        seen += [(i["pk"], int(i["sk"])) for i in page["Items"]]
    assert sorted(seen) == sorted((p, i) for p in "ab" for i in range(10))
    with pytest.raises(ClientError) as excinfo:
        filled.scan(Segment=3, TotalSegments=3)
    assert excinfo.value.response["Error"]["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less "
        "than TotalSegments: 3"
    )


def test_scan_pages_with_the_paginator(filled: Any) -> None:
    client = filled.meta.client
    pages = client.get_paginator("scan").paginate(TableName=filled.name, PaginationConfig={"PageSize": 7})
    assert sum(p["Count"] for p in pages) == 20
