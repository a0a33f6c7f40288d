"""Fixtures the Invoke test modules share: a boto3 client with a long read timeout, and a deployer that
creates functions and deletes them when the module ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.lambda_api.invoke_support import Deployer, client
from tests.server import LaminaProcess


@pytest.fixture(scope="module")
def api(lamina: LaminaProcess) -> Any:
    return client(lamina)


@pytest.fixture(scope="module")
def deployer(api: Any) -> Iterator[Deployer]:
    deployer = Deployer(api)
    try:
        yield deployer
    finally:
        deployer.delete_all()
