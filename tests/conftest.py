from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server import ROLE, LaminaProcess


@pytest.fixture(scope="session")
def lamina(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    """One real server for the session; tests use unique function names."""
    server = LaminaProcess(tmp_path_factory.mktemp("lamina-data")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_lamina(tmp_path: Path) -> Iterator[Callable[..., LaminaProcess]]:
    """Factory for servers a test owns (restarts, kill -9, special settings); all stopped afterwards."""
    started: list[LaminaProcess] = []

    def start(*extra: str, data_dir: Path | None = None) -> LaminaProcess:
        server = LaminaProcess(data_dir or tmp_path / "data", *extra).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.kill()


@pytest.fixture(scope="session")
def lambda_client(lamina: LaminaProcess) -> Any:
    return lamina.client()


def make_zip(files: dict[str, str | bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in (files or {"app.py": "def handler(event, context):\n    return event\n"}).items():
            z.writestr(name, content)
    return buf.getvalue()


@pytest.fixture
def fn_name() -> str:
    return f"fn-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def create_function(lambda_client: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """Creates functions with sensible defaults and deletes them after the test."""
    created: list[str] = []

    def create(name: str, **kwargs: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": make_zip()},
        }
        args.update(kwargs)
        result: dict[str, Any] = lambda_client.create_function(**args)
        created.append(name)
        return result

    yield create
    for name in created:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass
