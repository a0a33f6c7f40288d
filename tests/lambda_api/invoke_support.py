"""Helpers for the Invoke tests: zip packages with file modes, functions created through boto3 and shared
by a module, and small accessors for Invoke responses."""

from __future__ import annotations

import base64
import io
import json
import textwrap
import time
import uuid
import zipfile
from typing import Any

from tests.server import ROLE, LaminaProcess

ACCOUNT = "000000000000"
REGION = "us-east-1"


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def package(files: dict[str, str | bytes], executable: tuple[str, ...] = ("bootstrap",)) -> bytes:
    """A zip whose text files are dedented; files named in `executable` get mode 0755 (as `zip` keeps them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            data = textwrap.dedent(content).lstrip("\n") if isinstance(content, str) else content
            archive.writestr(info, data)
    return buf.getvalue()


def client(server: LaminaProcess) -> Any:
    """A Lambda client that waits long enough for slow invokes; `server.client` already turns retries off."""
    return server.client(read_timeout=120, connect_timeout=10, max_pool_connections=32)


def wait_active(lambda_client: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """Polls GetFunctionConfiguration (faster than the boto3 waiters' 1 s delay) until State Active and the
    last update finished."""
    deadline = time.monotonic() + timeout
    while True:
        config: dict[str, Any] = lambda_client.get_function_configuration(FunctionName=name)
        if config["State"] == "Active" and config.get("LastUpdateStatus") in (None, "Successful"):
            return config
        assert config["State"] != "Failed" and config.get("LastUpdateStatus") != "Failed", config
        assert time.monotonic() < deadline, f"{name} not Active: {config}"
        time.sleep(0.02)


class Deployer:
    """Creates functions through CreateFunction, waits until they are Active, deletes them all at the end."""

    def __init__(self, lambda_client: Any) -> None:
        self.client = lambda_client
        self.created: list[str] = []

    def create(
        self,
        files: dict[str, str | bytes],
        *,
        handler: str = "app.handler",
        runtime: str = "python3.12",
        executable: tuple[str, ...] = ("bootstrap",),
        wait: bool = True,
        **kwargs: Any,
    ) -> str:
        name = f"inv-{uuid.uuid4().hex[:12]}"
        self.client.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": package(files, executable)},
            **kwargs,
        )
        self.created.append(name)
        if wait:
            wait_active(self.client, name)
        return name

    def delete_all(self) -> None:
        for name in self.created:
            try:
                self.client.delete_function(FunctionName=name)
            except self.client.exceptions.ResourceNotFoundException:
                pass


def body(response: dict[str, Any]) -> bytes:
    data: bytes = response["Payload"].read()
    return data


def doc(response: dict[str, Any]) -> Any:
    return json.loads(body(response))


def request_id(response: dict[str, Any]) -> str:
    rid: str = response["ResponseMetadata"]["RequestId"]
    return rid


def log_tail(response: dict[str, Any]) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def client_context(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()
