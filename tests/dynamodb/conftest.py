from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def dynamodb(lamina: LaminaProcess) -> Any:
    return lamina.client("dynamodb")


@pytest.fixture(scope="session")
def resource(lamina: LaminaProcess) -> Any:
    """boto3's Table API (`boto3.resource('dynamodb')`), the way most users reach DynamoDB."""
    return boto3.resource(
        "dynamodb", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.fixture
def make_table(dynamodb: Any) -> Iterator[Callable[..., str]]:
    """Creates a uniquely named table (pk S hash, optional sk range) and deletes it after the test."""
    created: list[str] = []

    def make(sort: str | None = None, **extra: Any) -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
        if sort is not None:
            schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
            definitions.append({"AttributeName": "sk", "AttributeType": sort})
        definitions += extra.pop("more_definitions", [])
        dynamodb.create_table(
            TableName=name,
            KeySchema=schema,
            AttributeDefinitions=definitions,
            BillingMode=extra.pop("BillingMode", "PAY_PER_REQUEST"),
            **extra,
        )
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            dynamodb.delete_table(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
