from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

ECHO = """
import json, time

def handler(event, context):
    path = event.get("path") or event.get("rawPath")
    if path == "/error":
        raise RuntimeError("boom")
    if path == "/garbage":
        return {"statusCode": "x", "unknown": 1}
    if path == "/slow":
        time.sleep(3)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
            "body": json.dumps(event)}
"""


@pytest.fixture(scope="session")
def apigw(lamina: LaminaProcess) -> Any:
    return lamina.client("apigatewayv2")


@pytest.fixture
def make_function(lambda_client: Any) -> Iterator[Callable[..., str]]:
    """An echo function, its ARN returned; `api_id` grants apigateway.amazonaws.com for that API."""
    made: list[str] = []

    def make(api_id: str | None = None, timeout: int = 10) -> str:
        name = f"api-fn-{uuid.uuid4().hex[:10]}"
        out = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Timeout=timeout,
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )
        made.append(name)
        return str(out["FunctionArn"])

    yield make
    for name in made:
        lambda_client.delete_function(FunctionName=name)


def grant(lambda_client: Any, function_arn: str, api_id: str, source: str = "*") -> None:
    lambda_client.add_permission(
        FunctionName=function_arn,
        StatementId=f"apigw-{uuid.uuid4().hex[:8]}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/{source}",
    )
