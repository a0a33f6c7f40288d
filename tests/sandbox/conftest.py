from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.invoke.harness import Functions, Loop


@pytest.fixture
def loop() -> Iterator[Loop]:
    runner = Loop()
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def functions(tmp_path_factory: pytest.TempPathFactory) -> Functions:
    root = tmp_path_factory.mktemp("functions")
    root.chmod(0o755)
    return Functions(root)
