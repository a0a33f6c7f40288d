from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.invoke.executor import Executor
from tests.invoke.harness import Functions, Loop, environment_pids, started_executor


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    runner = Loop()
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="module")
def executor(loop: Loop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executor]:
    """One sandboxed executor per test module; closed (every process killed) even when tests fail."""
    data_dir = tmp_path_factory.mktemp("lamina-data")
    # Only this executor's processes: a session-wide `lamina serve` may be refilling its spares meanwhile.
    before = environment_pids(data_dir)
    ex = loop.run(started_executor(data_dir))
    try:
        yield ex
    finally:
        loop.run(ex.close())
        leftovers = environment_pids(data_dir) - before
        assert not leftovers, f"processes left behind: {leftovers}"


@pytest.fixture
def functions(tmp_path_factory: pytest.TempPathFactory) -> Functions:
    root = tmp_path_factory.mktemp("functions")
    root.chmod(0o755)
    return Functions(root)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
