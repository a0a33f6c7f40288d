from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def kinesis(lamina: LaminaProcess) -> Any:
    """A client that retries throttles as the SDKs do by default: Lamina enforces AWS's GetRecords limit of 5 calls
    a second per shard, which these tests' back-to-back reads exceed (tests/kinesis/test_limits.py makes its own
    client without retries to see the errors)."""
    return boto3.client(
        "kinesis",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 10, "mode": "standard"}),
    )


@pytest.fixture
def make_stream(kinesis: Any) -> Iterator[Callable[..., str]]:
    """Creates a uniquely named stream and deletes it after the test."""
    created: list[str] = []

    def make(shards: int | None = 1, **extra: Any) -> str:
        name = f"s-{uuid.uuid4().hex[:12]}"
        if shards is not None:
            extra["ShardCount"] = shards
        kinesis.create_stream(StreamName=name, **extra)
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            kinesis.delete_stream(StreamName=name)
        except kinesis.exceptions.ResourceNotFoundException:
            pass
