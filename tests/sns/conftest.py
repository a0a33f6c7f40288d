from __future__ import annotations

import http.server
import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def sns(lamina: LaminaProcess) -> Any:
    return lamina.client("sns")


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def make_topic(sns: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(name: str | None = None, **kwargs: Any) -> str:
        arn: str = sns.create_topic(Name=name or f"t-{uuid.uuid4().hex[:12]}", **kwargs)["TopicArn"]
        created.append(arn)
        return arn

    yield make
    for arn in created:
        sns.delete_topic(TopicArn=arn)


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    """A new queue: (url, arn)."""
    created: list[str] = []

    def make() -> tuple[str, str]:
        url: str = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        created.append(url)
        arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    yield make
    for url in created:
        sqs.delete_queue(QueueUrl=url)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.sns.test_conformance import RESULTS

    if RESULTS:
        matched = sum(1 for _, _, ok in RESULTS if ok)
        terminalreporter.write_line(f"sns conformance: {matched} of {len(RESULTS)} recorded responses match")


class HttpEndpoint:
    """A loopback HTTP server standing in for a subscriber: records every POST (lower-case headers, body) and
    answers with `status` (settable)."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self.status = 200
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def next(self, timeout: float = 10.0) -> tuple[dict[str, str], dict[str, Any] | bytes]:
        headers, body = self.received.get(timeout=timeout)
        try:
            return headers, json.loads(body)
        except ValueError:
            return headers, body

    def nothing(self, wait: float = 1.0) -> bool:
        try:
            self.received.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_endpoint() -> Iterator[HttpEndpoint]:
    endpoint = HttpEndpoint()
    try:
        yield endpoint
    finally:
        endpoint.close()
