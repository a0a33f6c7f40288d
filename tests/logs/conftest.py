from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import polling
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


# log writes land within ~50 ms, later under load
wait_for = functools.partial(polling.wait_for, interval=0.05)
