from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

# Echoes the event (as upstream's lambda_aws_proxy does), or answers with the JSON the request body holds
# (upstream's LAMBDA_RESPONSE_FROM_BODY) for POST /answer.
ECHO = """
import json, time

def handler(event, context):
    if event["path"].endswith("/answer"):
        return json.loads(event["body"])
    if event["path"].endswith("/error"):
        raise RuntimeError("boom")
    if event["path"].endswith("/slow"):
        time.sleep(3)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""

AUTHORIZER = """
def handler(event, context):
    token = event.get("authorizationToken") or event["headers"].get("X-Token")
    if token == "fail":
        raise RuntimeError("broken")
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "garbage":
        return "nope"
    effect = "Allow" if token in ("allow", "yes") else "Deny"
    return {"principalId": "user-1", "context": {"tenant": "t1", "n": 7},
            "policyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                                              "Resource": event["methodArn"]}]}}
"""


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def apigateway(lamina: LaminaProcess) -> Any:
    return lamina.client("apigateway")


@dataclass
class Api:
    id: str
    root: str
    resource: str
    function: str
    function_arn: str

    def host(self) -> str:
        return f"{self.id}.execute-api.localhost"


def make_function(lambda_client: Any, code: str = ECHO) -> tuple[str, str]:
    function = name("apigw-fn")
    out = lambda_client.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )
    return function, out["FunctionArn"]


def build_api(apigateway: Any, lambda_client: Any, permission: bool = True, stage: str = "test", **method: Any) -> Api:
    """A REST API with `/{proxy+}` ANY → AWS_PROXY to the echo function, deployed to `stage`."""
    function, arn = make_function(lambda_client)
    api = apigateway.create_rest_api(name=name("api"))
    resource = apigateway.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    apigateway.put_method(
        restApiId=api["id"],
        resourceId=resource["id"],
        httpMethod="ANY",
        authorizationType=method.pop("authorizationType", "NONE"),
        **method,
    )
    region = apigateway.meta.region_name
    apigateway.put_integration(
        restApiId=api["id"],
        resourceId=resource["id"],
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
    )
    if permission:
        lambda_client.add_permission(
            FunctionName=function,
            StatementId="apigw",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{region}:000000000000:{api['id']}/*/*/*",
        )
    apigateway.create_deployment(restApiId=api["id"], stageName=stage)
    return Api(api["id"], api["rootResourceId"], resource["id"], function, arn)


@pytest.fixture
def make_api(apigateway: Any, lambda_client: Any) -> Iterator[Callable[..., Api]]:
    made: list[Api] = []

    def make(**kwargs: Any) -> Api:
        api = build_api(apigateway, lambda_client, **kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        apigateway.delete_rest_api(restApiId=api.id)
        lambda_client.delete_function(FunctionName=api.function)
