from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

SCHEDULER_ROLE = "arn:aws:iam::000000000000:role/scheduler-role"


@pytest.fixture(scope="session")
def scheduler(lamina: LaminaProcess) -> Any:
    return lamina.client("scheduler")


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def queue(sqs: Any) -> Iterator[Callable[[], tuple[str, str]]]:
    """Makes SQS queues: (url, arn); deleted afterwards."""
    made: list[str] = []

    def make() -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"sched-{uuid.uuid4().hex[:10]}")["QueueUrl"]
        made.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return str(url), str(arn)

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def function_to_queue(lambda_client: Any) -> Iterator[Callable[[str], str]]:
    """A function whose async invocations' records go to the given SQS queue ARN (OnSuccess); its ARN."""
    made: list[str] = []

    def make(queue_arn: str) -> str:
        name = f"sched-fn-{uuid.uuid4().hex[:10]}"
        out = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return {'got': event}\n"})},
        )
        made.append(name)
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
        )
        return str(out["FunctionArn"])

    yield make
    for name in made:
        lambda_client.delete_function(FunctionName=name)


def target(arn: str, **extra: Any) -> dict[str, Any]:
    return {"Arn": arn, "RoleArn": SCHEDULER_ROLE, **extra}


def at_in(seconds: float) -> str:
    """An at() expression `seconds` from now (UTC)."""
    return "at(" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + seconds)) + ")"


def receive(sqs: Any, url: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Messages of the queue, waiting up to `timeout` for the first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if got:
            return list(got)
    return []
