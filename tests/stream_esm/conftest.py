"""Fixtures for stream event source mapping tests: a collector the functions report to (it answers how many
reports it has had, so a function can fail its first N invocations), streams, queues and functions."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.esm.conftest import make_function, mappings  # noqa: F401
from tests.server import LaminaProcess

REPORT = """
import json, os, urllib.request

def report(value):
    data = json.dumps(value).encode()
    req = urllib.request.Request(os.environ["COLLECTOR"], data=data, headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["n"]
"""


class Counter:
    """A loopback HTTP collector; each POST is kept and answered with {"n": how many so far}."""

    def __init__(self) -> None:
        self.posts: list[Any] = []
        self._lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with counter._lock:
                    counter.posts.append(json.loads(body))
                    answer = json.dumps({"n": len(counter.posts)}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Any]:
        with self._lock:
            return list(self.posts)


@pytest.fixture
def counter() -> Iterator[Counter]:
    c = Counter()
    yield c
    c.close()


@pytest.fixture(scope="session")
def kinesis(lamina: LaminaProcess) -> Any:
    return lamina.client("kinesis")


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def make_stream(kinesis: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    created: list[str] = []

    def make(shards: int = 1) -> tuple[str, str]:
        name = f"esm-{uuid.uuid4().hex[:12]}"
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        created.append(name)
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        return name, arn

    yield make
    for name in created:
        try:
            kinesis.delete_stream(StreamName=name)
        except kinesis.exceptions.ResourceNotFoundException:
            pass
