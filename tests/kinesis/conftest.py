from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def kinesis(lamina: LaminaProcess) -> Any:
    return lamina.client("kinesis")


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
