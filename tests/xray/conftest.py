from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import polling
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


wait_for = polling.wait_for  # Lambda's segments are written within a second
