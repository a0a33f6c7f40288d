from __future__ import annotations

from typing import Any

import pytest

from tests import polling
from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def cloudwatch(lamina: LaminaProcess) -> Any:
    return lamina.client("cloudwatch")


wait_for = polling.wait_for  # buffered Lambda points land within a second
