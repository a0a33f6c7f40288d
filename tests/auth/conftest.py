"""One Lamina started with `--auth sigv4` (root keys from the environment) and clients with any keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.server import LaminaProcess

ROOT_KEY = "AKIAROOTTESTKEY00001"
ROOT_SECRET = "root-secret-for-tests-only-0123456789abc"


@pytest.fixture(scope="session")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    saved = {k: os.environ.get(k) for k in ("LAMINA_ROOT_ACCESS_KEY_ID", "LAMINA_ROOT_SECRET_ACCESS_KEY")}
    os.environ["LAMINA_ROOT_ACCESS_KEY_ID"] = ROOT_KEY
    os.environ["LAMINA_ROOT_SECRET_ACCESS_KEY"] = ROOT_SECRET
    try:
        server = LaminaProcess(tmp_path_factory.mktemp("secured"), "--auth", "sigv4").start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield server
    finally:
        server.stop()


Client = Callable[..., Any]


def clients_for(url: str) -> Client:
    """`client(service, key, secret, token=None)` for the server at `url`; key None: unsigned requests."""

    def make(service: str, key: str | None = ROOT_KEY, secret: str = ROOT_SECRET, token: str | None = None) -> Any:
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        if key is None:
            config = config.merge(Config(signature_version=UNSIGNED))
        return boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key or "x",
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=config,
        )

    return make


@pytest.fixture(scope="session")
def client(secured: LaminaProcess) -> Client:
    """`client(service, key, secret, token=None)`; key None: unsigned requests."""
    return clients_for(secured.url)


@pytest.fixture
def queue(client: Client) -> Iterator[tuple[str, str]]:
    """(url, ARN) of a new queue, deleted afterwards."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)
