from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.esm.conftest import make_function, make_queue, mappings, sqs  # noqa: F401  (fixtures shared)
from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def sns(lamina: LaminaProcess) -> Any:
    return lamina.client("sns")


@pytest.fixture
def make_topic(sns: Any) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def make() -> str:
        import uuid

        arn: str = sns.create_topic(Name=f"loop-{uuid.uuid4().hex[:12]}")["TopicArn"]
        made.append(arn)
        return arn

    yield make
    for arn in made:
        sns.delete_topic(TopicArn=arn)
