"""`lamina serve --function-network isolated`: each execution environment has its own network namespace with
only its loopback, on which Lamina's port and the Runtime API are bound for it. A TCP service the test starts
on the host (on 127.0.0.1 and on every address) is out of the function's reach, while the function still calls
Lamina with boto3 and answers invokes; with `--function-network host` the same function reaches the service
(the control that shows the test can fail)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

PROBE = r"""
import os, socket
import boto3

def handler(event, context):
    reached = {}
    for host in event["hosts"]:
        try:
            with socket.create_connection((host, event["port"]), timeout=1) as s:
                reached[host] = s.recv(16).decode()
        except OSError as e:
            reached[host] = type(e).__name__
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=event["queue"])["QueueUrl"]
    return {"reached": reached, "queue_url": url, "endpoint": os.environ.get("AWS_ENDPOINT_URL")}
"""


def _outside_address() -> str | None:
    """An address of this host other than loopback (where a service bound to 0.0.0.0 also listens)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing address
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture
def service() -> Iterator[tuple[int, list[str]]]:
    """A TCP service on every address of the host that greets with "hello"; yields its port and who came."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)
    came: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            came.append(peer[0])
            with conn:
                conn.sendall(b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], came
    finally:
        listener.close()
        thread.join(timeout=5)


def _probe(data_dir: Path, network: str, port: int) -> dict[str, object]:
    server = LaminaProcess(data_dir, "--function-network", network).start()
    try:
        lam = server.client("lambda")
        name = f"probe-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": PROBE})},
            Timeout=30,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        hosts = ["127.0.0.1", *([a] if (a := _outside_address()) else [])]
        event = {"hosts": hosts, "port": port, "queue": f"from-{network}"}
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        assert "FunctionError" not in answer, answer["Payload"].read()
        out: dict[str, object] = json.loads(answer["Payload"].read())
        queues = server.client("sqs").list_queues().get("QueueUrls", [])
        assert any(q.endswith(f"/from-{network}") for q in queues)  # the function's boto3 call reached Lamina
        out["server_port"] = server.port
        return out
    finally:
        server.stop()


def test_an_isolated_function_reaches_only_lamina(tmp_path: Path, service: tuple[int, list[str]]) -> None:
    port, came = service
    out = _probe(tmp_path / "isolated", "isolated", port)
    reached = out["reached"]
    assert isinstance(reached, dict)
    assert all(v in ("ConnectionRefusedError", "OSError", "TimeoutError") for v in reached.values()), reached
    assert came == []
    assert out["endpoint"] == f"http://127.0.0.1:{out['server_port']}"


def test_a_host_network_function_reaches_the_service(tmp_path: Path, service: tuple[int, list[str]]) -> None:
    port, came = service
    out = _probe(tmp_path / "host", "host", port)
    reached = out["reached"]
    assert isinstance(reached, dict)
    assert reached["127.0.0.1"] == "hello"
    assert came


def test_isolated_is_refused_where_namespaces_are_not(tmp_path: Path) -> None:
    """Without namespaces (here: isolation forced off) `--function-network isolated` refuses to start, with the
    reason, instead of running functions on the host's network."""
    from lamina.app import Lamina
    from lamina.config import Settings
    from lamina.sandbox.isolation import NetworkIsolationUnavailable
    from lamina.sandbox.settings import SandboxSettings

    settings = Settings(port=0, data_dir=tmp_path / "data", function_network="isolated", memory_merge="off")
    app = Lamina(settings, sandbox=SandboxSettings(network_namespace=True, force_fallback=True))

    async def start() -> str:
        try:
            await app.start()
        except NetworkIsolationUnavailable as refused:
            return str(refused)
        finally:
            await app.stop()
        return "started"

    message = asyncio.run(start())
    assert message.startswith("--function-network isolated needs a network namespace per execution environment")
    assert "fallback forced by settings" in message
    assert message.endswith("use --function-network host")


def test_the_cli_says_why_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any) -> None:
    from lamina.app import Lamina
    from lamina.cli.main import main
    from lamina.sandbox.isolation import NetworkIsolationUnavailable

    async def refuse(self: Lamina) -> None:
        raise NetworkIsolationUnavailable("--function-network isolated needs a network namespace (test)")

    monkeypatch.setattr(Lamina, "start", refuse)
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path), "--function-network", "isolated"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lamina: error: --function-network isolated needs a network namespace (test)"]
