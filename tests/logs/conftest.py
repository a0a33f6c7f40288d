from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def logs(lamina: LaminaProcess) -> Any:
    return lamina.client("logs")


@pytest.fixture
def make_group(logs: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(name: str | None = None, **kwargs: Any) -> str:
        group = name or f"/test/{uuid.uuid4().hex[:12]}"
        logs.create_log_group(logGroupName=group, **kwargs)
        created.append(group)
        return group

    yield make
    for group in created:
        try:
            logs.delete_log_group(logGroupName=group)
        except logs.exceptions.ResourceNotFoundException:
            pass


def now_ms() -> int:
    return int(time.time() * 1000)


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Polls `check` until it returns something truthy (log writes land within ~50 ms, later under load)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(0.05)
