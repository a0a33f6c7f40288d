from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def lamina(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    """The session's server for these tests, with `--xray-sampling all`: they check the segments of every
    invocation of an Active function, where AWS's default rule (one a second plus 5%) would trace only some.
    test_sampling.py checks the default rule."""
    server = LaminaProcess(tmp_path_factory.mktemp("lamina-data"), "--xray-sampling", "all").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lambda_client(lamina: LaminaProcess) -> Any:
    """A client of the server above: the session-wide one (tests/conftest.py) is bound to the shared server once
    another directory has used it."""
    return lamina.client()


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
