from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def xray(lamina: LaminaProcess) -> Any:
    return lamina.client("xray")


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Polls `check` until it returns something truthy (Lambda's segments are written within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(0.1)
