"""The aws CLI against Lamina's DynamoDB: create-table, wait, put-item, get-item, query, update-item, delete-table."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url, "dynamodb")


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_round_trip(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    created = aws(
        "create-table",
        "--table-name", name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
        "--billing-mode", "PAY_PER_REQUEST",
    )  # fmt: skip
    assert created["TableDescription"]["TableName"] == name
    aws("wait", "table-exists", "--table-name", name)
    for sk in ("1", "2", "3"):
        aws("put-item", "--table-name", name, "--item", json.dumps({"pk": {"S": "p"}, "sk": {"N": sk}}))
    got = aws("get-item", "--table-name", name, "--key", json.dumps({"pk": {"S": "p"}, "sk": {"N": "2"}}))
    assert got["Item"] == {"pk": {"S": "p"}, "sk": {"N": "2"}}
    found = aws(
        "query", "--table-name", name,
        "--key-condition-expression", "pk = :p AND sk >= :s",
        "--expression-attribute-values", json.dumps({":p": {"S": "p"}, ":s": {"N": "2"}}),
    )  # fmt: skip
    assert [i["sk"]["N"] for i in found["Items"]] == ["2", "3"]
    updated = aws(
        "update-item", "--table-name", name,
        "--key", json.dumps({"pk": {"S": "p"}, "sk": {"N": "1"}}),
        "--update-expression", "SET hits = :one",
        "--expression-attribute-values", json.dumps({":one": {"N": "1"}}),
        "--return-values", "ALL_NEW",
    )  # fmt: skip
    assert updated["Attributes"]["hits"] == {"N": "1"}
    assert name in aws("list-tables")["TableNames"]
    aws("delete-table", "--table-name", name)
    aws("wait", "table-not-exists", "--table-name", name)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_partiql(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    aws("create-table", "--table-name", name, "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")  # fmt: skip
    aws("execute-statement", "--statement", f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'n': 1}}")
    got = aws("execute-statement", "--statement", f'SELECT n FROM "{name}" WHERE pk = ?',
              "--parameters", json.dumps([{"S": "a"}]))  # fmt: skip
    assert got["Items"] == [{"n": {"N": "1"}}]
    error = aws("execute-statement", "--statement", f"INSERT INTO \"{name}\" VALUE {{'pk': 'a'}}", ok=False)
    assert "DuplicateItemException" in error
    aws("delete-table", "--table-name", name)
