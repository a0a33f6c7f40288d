"""PartiQL through boto3: ExecuteStatement (SELECT on key and attributes, INSERT, UPDATE SET/REMOVE, DELETE),
BatchExecuteStatement and ExecuteTransaction, with AWS's errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(dynamodb: Any) -> Iterator[str]:
    name = f"pq-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    dynamodb.delete_table(TableName=name)


def _code(err: Any) -> str:
    return str(err.value.response["Error"]["Code"])


def test_insert_select_update_delete(dynamodb: Any, table: str) -> None:
    run = dynamodb.execute_statement
    assert (
        run(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'u1', 'sk': 1, 'total': 5, 'tags': <<'a', 'b'>>}}")[
            "Items"
        ]
        == []
    )
    run(Statement=f'INSERT INTO "{table}" VALUE {{\'pk\': ?, \'sk\': ?, \'total\': ?}}',
        Parameters=[{"S": "u1"}, {"N": "2"}, {"N": "7"}])  # fmt: skip
    run(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'u2', 'sk': 1, 'total': 1}}")
    with pytest.raises(ClientError) as err:
        run(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'u1', 'sk': 1}}")
    assert _code(err) == "DuplicateItemException"
    assert err.value.response["Error"]["Message"] == "Duplicate primary key exists in table"
    got = run(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'u1'")["Items"]
    assert [i["sk"] for i in got] == [{"N": "1"}, {"N": "2"}]
    assert got[0]["tags"] == {"SS": ["a", "b"]}
    got = run(Statement=f'SELECT total FROM "{table}" WHERE pk = ? AND sk > 1', Parameters=[{"S": "u1"}])["Items"]
    assert got == [{"total": {"N": "7"}}]
    got = run(Statement=f"SELECT pk, sk FROM \"{table}\" WHERE total >= 5 AND NOT pk = 'u2'")["Items"]
    assert sorted(i["sk"]["N"] for i in got) == ["1", "2"]
    got = run(Statement=f"SELECT * FROM \"{table}\" WHERE begins_with(pk, 'u') AND total IN [1, 7]")["Items"]
    assert sorted((i["pk"]["S"], i["sk"]["N"]) for i in got) == [("u1", "2"), ("u2", "1")]
    run(Statement=f"UPDATE \"{table}\" SET total = 9, note = 'hi' REMOVE tags WHERE pk = 'u1' AND sk = 1")
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "u1"}, "sk": {"N": "1"}})["Item"]
    assert item["total"] == {"N": "9"} and item["note"] == {"S": "hi"} and "tags" not in item
    with pytest.raises(ClientError) as err:  # no such item: UPDATE does not create one
        run(Statement=f"UPDATE \"{table}\" SET total = 1 WHERE pk = 'nope' AND sk = 1")
    assert _code(err) == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as err:
        run(Statement=f"UPDATE \"{table}\" SET total = 1 WHERE pk = 'u1'")
    assert _code(err) == "ValidationException"
    assert "mandatory equality on all key attributes" in err.value.response["Error"]["Message"]
    run(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'u2' AND sk = 1")
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "u2"}, "sk": {"N": "1"}})


def test_pages_batches_transactions_and_errors(dynamodb: Any, table: str) -> None:
    run = dynamodb.execute_statement
    for n in range(5):
        run(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': {n}}}")
    page = run(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'p'", Limit=2)
    assert len(page["Items"]) == 2 and page["NextToken"]
    rest = run(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'p'", NextToken=page["NextToken"])
    assert [i["sk"]["N"] for i in rest["Items"]] == ["2", "3", "4"]
    batch = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'p' AND sk = 3"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': 3}}"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'q', 'sk': 1}}"},
    ])["Responses"]  # fmt: skip
    assert batch[0]["Item"]["sk"] == {"N": "3"} and batch[0]["TableName"] == table
    assert batch[1]["Error"]["Code"] == "DuplicateItem"
    assert "Error" not in batch[2]
    dynamodb.execute_transaction(TransactStatements=[
        {"Statement": f"UPDATE \"{table}\" SET v = 1 WHERE pk = 'p' AND sk = 0"},
        {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'q' AND sk = 1"},
    ])  # fmt: skip
    with pytest.raises(ClientError) as err:  # all or nothing: the first change is not made
        dynamodb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{table}\" SET v = 2 WHERE pk = 'p' AND sk = 0"},
            {"Statement": f"UPDATE \"{table}\" SET v = 2 WHERE pk = 'gone' AND sk = 0"},
        ])  # fmt: skip
    assert _code(err) == "TransactionCanceledException"
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"N": "0"}})["Item"]
    assert item["v"] == {"N": "1"}
    got = dynamodb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'p' AND sk = 0"}])["Responses"]  # fmt: skip
    assert got[0]["Item"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as err:
        run(Statement=f'SELEC * FROM "{table}"')
    assert _code(err) == "ValidationException"
    assert err.value.response["Error"]["Message"].startswith("Statement wasn't well formed, can't be processed:")
    with pytest.raises(ClientError) as err:
        run(Statement=f'SELECT * FROM "{table}" WHERE pk = ?')
    assert err.value.response["Error"]["Message"] == "Number of parameters in request and statement don't match."
    with pytest.raises(ClientError) as err:
        run(Statement='SELECT * FROM "no-such-table"')
    assert _code(err) == "ResourceNotFoundException"
