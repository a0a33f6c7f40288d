from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def sns(lamina: LaminaProcess) -> Any:
    return lamina.client("sns")


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def make_topic(sns: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(name: str | None = None, **kwargs: Any) -> str:
        arn: str = sns.create_topic(Name=name or f"t-{uuid.uuid4().hex[:12]}", **kwargs)["TopicArn"]
        created.append(arn)
        return arn

    yield make
    for arn in created:
        sns.delete_topic(TopicArn=arn)


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    """A new queue: (url, arn)."""
    created: list[str] = []

    def make() -> tuple[str, str]:
        url: str = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        created.append(url)
        arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    yield make
    for url in created:
        sqs.delete_queue(QueueUrl=url)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.sns.test_conformance import RESULTS

    if RESULTS:
        matched = sum(1 for _, _, ok in RESULTS if ok)
        terminalreporter.write_line(f"sns conformance: {matched} of {len(RESULTS)} recorded responses match")
