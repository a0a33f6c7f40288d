from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def events(lamina: LaminaProcess) -> Any:
    return lamina.client("events")


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture(scope="session")
def sns(lamina: LaminaProcess) -> Any:
    return lamina.client("sns")


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


@pytest.fixture
def make_bus(events: Any) -> Iterator[Callable[..., str]]:
    """A new custom bus (deleted with its rules afterwards): its name."""
    created: list[str] = []

    def make() -> str:
        name = f"bus-{uuid.uuid4().hex[:10]}"
        events.create_event_bus(Name=name)
        created.append(name)
        return name

    yield make
    for name in created:
        events.delete_event_bus(Name=name)


@pytest.fixture
def make_rule(events: Any) -> Iterator[Callable[..., str]]:
    """A rule (name) on a bus, with targets; removed afterwards."""
    created: list[tuple[str, str]] = []

    def make(pattern: str, targets: list[dict[str, Any]], bus: str = "default", **extra: Any) -> str:
        name = f"rule-{uuid.uuid4().hex[:10]}"
        events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern, **extra)
        created.append((name, bus))
        if targets:
            assert events.put_targets(Rule=name, EventBusName=bus, Targets=targets)["FailedEntryCount"] == 0
        return name

    yield make
    for name, bus in created:
        try:
            events.delete_rule(Name=name, EventBusName=bus, Force=True)
        except Exception:  # its bus is gone already
            pass


def drain(sqs: Any, url: str, expect: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Receives until `expect` messages arrived (then waits a moment more for unexpected extras)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = 1 if len(got) >= expect else 2
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(batch)
        if not batch and len(got) >= expect:
            break
    return got
