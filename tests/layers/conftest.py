from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.layers.support import Publisher


@pytest.fixture
def layers(lambda_client: Any) -> Iterator[Publisher]:
    publisher = Publisher(lambda_client)
    try:
        yield publisher
    finally:
        publisher.cleanup()
