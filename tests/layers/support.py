"""Helpers shared by the layer tests: zips with file modes, a layer publisher that cleans up after itself,
and waiting for a function to settle."""

from __future__ import annotations

import io
import textwrap
import time
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

ACCOUNT = "000000000000"
REGION = "us-east-1"


def layer_zip(files: Mapping[str, str | bytes], executable: tuple[str, ...] = ()) -> bytes:
    """A zip whose text files are dedented; files named in `executable` get mode 0755, as `zip` keeps them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            data = textwrap.dedent(content).lstrip("\n") if isinstance(content, str) else content
            archive.writestr(info, data)
    return buf.getvalue()


def unique(prefix: str = "layer") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_settled(client: Any, name: str, timeout: float = 20.0) -> dict[str, Any]:
    """Until the function is Active and its last update finished (polling faster than boto3's waiters)."""
    deadline = time.monotonic() + timeout
    while True:
        config: dict[str, Any] = client.get_function_configuration(FunctionName=name)
        if config["State"] == "Active" and config.get("LastUpdateStatus") in (None, "Successful"):
            return config
        assert config["State"] != "Failed", config
        assert time.monotonic() < deadline, f"{name} did not settle: {config}"
        time.sleep(0.02)


class Publisher:
    """Publishes layer versions and deletes every one of them after the test."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.published: list[tuple[Any, str, int]] = []

    def publish(self, name: str, content: bytes, client: Any | None = None, **params: Any) -> dict[str, Any]:
        client = client or self.client
        result: dict[str, Any] = client.publish_layer_version(LayerName=name, Content={"ZipFile": content}, **params)
        self.published.append((client, name, result["Version"]))
        return result

    def cleanup(self) -> None:
        for client, name, version in self.published:
            client.delete_layer_version(LayerName=name, VersionNumber=version)
