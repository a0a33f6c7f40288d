from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import polling
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    """Creates a uniquely named queue; returns (url, arn). Deleted after the test."""
    created: list[str] = []

    def make(fifo: bool = False, **attributes: str) -> tuple[str, str]:
        name = f"esmq-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        created.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    yield make
    for url in created:
        try:
            sqs.delete_queue(QueueUrl=url)
        except sqs.exceptions.QueueDoesNotExist:
            pass


@pytest.fixture
def make_function(lambda_client: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(code: str, env: dict[str, str] | None = None, **extra: Any) -> str:
        name = f"esmfn-{uuid.uuid4().hex[:12]}"
        lambda_client.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="handler.handler",
            Code={"ZipFile": make_zip({"handler.py": code})}, Environment={"Variables": env or {}}, **extra,
        )  # fmt: skip
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


@pytest.fixture
def mappings(lambda_client: Any) -> Iterator[list[str]]:
    """UUIDs appended here are deleted after the test."""
    made: list[str] = []
    yield made
    for u in made:
        wait_settled(lambda_client, u)
        try:
            lambda_client.delete_event_source_mapping(UUID=u)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


def wait_settled(lambda_client: Any, uuid_: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        try:
            state = str(lambda_client.get_event_source_mapping(UUID=uuid_)["State"])
        except lambda_client.exceptions.ResourceNotFoundException:
            return "Gone"
        if state in ("Enabled", "Disabled"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"mapping {uuid_} stuck in {state}")


wait_for = functools.partial(polling.wait_for, timeout=20.0)


def queue_counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"
        ],
    )["Attributes"]  # fmt: skip
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.conformance.snapshot import RESULTS
    from tests.esm.test_api_conformance import ENTRIES

    mine = [r for r in RESULTS if r.entry in ENTRIES]
    if not mine:
        return
    matched = sum(r.status == "match" for r in mine)
    terminalreporter.section("event source mapping conformance (recorded AWS responses)")
    terminalreporter.write_line(
        f"esm conformance: {matched} of {len(mine)} recorded responses match ({len({r.entry for r in mine})} entries)"
    )
