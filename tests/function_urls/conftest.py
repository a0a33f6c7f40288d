from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_zip
from tests.function_urls.grants import grant_public_url
from tests.server import ROLE, LaminaProcess

ECHO = """
import base64, json

def handler(event, context):
    path = event["rawPath"]
    if path == "/error":
        raise RuntimeError("boom")
    if path == "/garbage":
        return {"statusCode": "not a status"}
    if path == "/string":
        return "hello"
    if path == "/dict":
        return {"hello": "world"}
    if path == "/binary":
        body = base64.b64encode(bytes(range(256))).decode()
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": body, "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 202, "headers": {"X-Mine": "a", "Access-Control-Allow-Origin": "mine"},
                "cookies": ["a=1; Path=/", "b=2"], "body": "ok"}
    if path == "/huge":
        return {"statusCode": 200, "body": "x" * (7 * 1024 * 1024)}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""


@dataclass
class Url:
    function: str
    url: str
    host: str
    url_id: str


def host_of(function_url: str) -> str:
    return urlsplit(function_url).hostname or ""


@pytest.fixture
def make_url(lambda_client: Any) -> Iterator[Callable[..., Url]]:
    """A function with a URL config (and, unless told otherwise, the public permission AuthType NONE needs)."""
    made: list[str] = []

    def make(auth: str = "NONE", permission: bool = True, code: str = ECHO, **config: Any) -> Url:
        function = f"url-fn-{uuid.uuid4().hex[:10]}"
        lambda_client.create_function(
            FunctionName=function,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": code})},
        )
        made.append(function)
        out = lambda_client.create_function_url_config(FunctionName=function, AuthType=auth, **config)
        if permission and auth == "NONE":
            grant_public_url(lambda_client, function)
        host = host_of(out["FunctionUrl"])
        return Url(function, out["FunctionUrl"], host, host.split(".")[0])

    yield make
    for function in made:
        try:
            lambda_client.delete_function(FunctionName=function)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


@pytest.fixture
def port(lamina: LaminaProcess) -> int:
    return lamina.port
