"""Lambda REQUEST authorizers (payload 1.0, IAM policy answers) and JWT authorizer configs, end to end."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.apigatewayv2.conftest import grant
from tests.conftest import make_zip
from tests.elbv2.conftest import http_call
from tests.server import ROLE, LaminaProcess

AUTHORIZER = """
def handler(event, context):
    token = event["headers"].get("authorization")
    effect = "Allow" if token == "let-me-in" else "Deny"
    if token == "broken":
        return "not a policy"
    return {"principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
            "context": {"user": "alice", "seen": event["identitySource"], "type": event["type"]}}
"""


@pytest.fixture
def authorizer_function(lambda_client: Any) -> Iterator[str]:
    name = f"api-auth-{uuid.uuid4().hex[:10]}"
    out = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": AUTHORIZER})},
    )
    yield str(out["FunctionArn"])
    lambda_client.delete_function(FunctionName=name)


def test_a_lambda_authorizer_guards_the_route_and_passes_its_context(
    lamina: LaminaProcess,
    apigw: Any,
    lambda_client: Any,
    make_function: Callable[..., str],
    authorizer_function: str,
) -> None:
    function = make_function()
    api_id = apigw.create_api(Name="guarded", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function, PayloadFormatVersion="1.0"
    )
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{authorizer_function}/invocations"
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="tokens",
        AuthorizerType="REQUEST",
        AuthorizerUri=uri,
        AuthorizerPayloadFormatVersion="1.0",
        IdentitySource=["$request.header.Authorization"],
    )
    assert authorizer["EnableSimpleResponses"] is False
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /secret",
        Target=f"integrations/{integration['IntegrationId']}",
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    grant(lambda_client, function, api_id)
    grant(lambda_client, authorizer_function, api_id, f"authorizers/{authorizer['AuthorizerId']}")
    host = f"{api_id}.execute-api.localhost"

    def call(token: str | None) -> tuple[int, Any]:
        headers = [("Authorization", token)] if token is not None else []
        answer = http_call(lamina.port, host, "GET", "/secret", headers=headers)
        return answer.status, json.loads(answer.body)

    assert call(None) == (401, {"message": "Unauthorized"})
    assert call("wrong") == (403, {"message": "Forbidden"})
    assert call("broken") == (500, {"message": "Internal Server Error"})
    status, event = call("let-me-in")
    assert status == 200
    assert event["requestContext"]["authorizer"]["lambda"] == {
        "user": "alice",
        "seen": "let-me-in",
        "type": "REQUEST",
    }
    with pytest.raises(ClientError) as error:
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer["AuthorizerId"])
    assert error.value.response["Error"]["Code"] == "ConflictException"
    apigw.delete_api(ApiId=api_id)


def test_authorizer_configs_are_checked_and_stored(apigw: Any) -> None:
    api_id = apigw.create_api(Name="auths", ProtocolType="HTTP")["ApiId"]
    try:
        with pytest.raises(ClientError) as error:
            apigw.create_authorizer(
                ApiId=api_id,
                Name="bad",
                AuthorizerType="REQUEST",
                AuthorizerUri="arn:aws:lambda:us-east-1:000000000000:function:a",
                AuthorizerPayloadFormatVersion="1.0",
                EnableSimpleResponses=True,
                IdentitySource=["$request.header.Authorization"],
            )
        assert error.value.response["Error"]["Code"] == "BadRequestException"
        jwt = apigw.create_authorizer(
            ApiId=api_id,
            Name="jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Audience": ["app"], "Issuer": "https://issuer.example"},
        )
        got = apigw.get_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
        assert got["JwtConfiguration"] == {"Audience": ["app"], "Issuer": "https://issuer.example"}
        assert [a["Name"] for a in apigw.get_authorizers(ApiId=api_id)["Items"]] == ["jwt"]
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
        with pytest.raises(ClientError) as error:
            apigw.get_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
        assert error.value.response["Error"]["Code"] == "NotFoundException"
    finally:
        apigw.delete_api(ApiId=api_id)


SIMPLE = """
def handler(event, context):
    ok = event["identitySource"] == ["let-me-in"] and event["type"] == "REQUEST" and event["version"] == "2.0"
    return {"isAuthorized": ok, "context": {"route": event["routeArn"].rsplit("/", 2)[-2]}}
"""


def test_a_simple_response_authorizer_with_payload_2_0(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    name = f"api-simple-{uuid.uuid4().hex[:10]}"
    auth_arn = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SIMPLE})},
    )["FunctionArn"]
    api_id = apigw.create_api(Name="simple", ProtocolType="HTTP", Target=function, RouteKey="GET /me")["ApiId"]
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="simple",
        AuthorizerType="REQUEST",
        AuthorizerUri=auth_arn,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization"],
    )
    (route,) = apigw.get_routes(ApiId=api_id)["Items"]
    apigw.update_route(
        ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"]
    )
    grant(lambda_client, function, api_id)
    grant(lambda_client, auth_arn, api_id, f"authorizers/{authorizer['AuthorizerId']}")
    host = f"{api_id}.execute-api.localhost"
    assert http_call(lamina.port, host, "GET", "/me").status == 401
    denied = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", "nope")])
    assert (denied.status, json.loads(denied.body)) == (403, {"message": "Forbidden"})
    answer = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", "let-me-in")])
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["requestContext"]["authorizer"]["lambda"] == {"route": "GET"}
    apigw.delete_api(ApiId=api_id)
    lambda_client.delete_function(FunctionName=name)


COUNTING = """
import uuid

def handler(event, context):
    return {"isAuthorized": event["identitySource"] != ["nope"], "context": {"call": uuid.uuid4().hex}}
"""


@pytest.mark.parametrize("ttl", [300, 0])
def test_authorizer_answers_are_cached_by_identity_source(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str], ttl: int
) -> None:
    function = make_function()
    name = f"api-count-{uuid.uuid4().hex[:10]}"
    auth_arn = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": COUNTING})},
    )["FunctionArn"]
    api_id = apigw.create_api(Name="cached", ProtocolType="HTTP", Target=function, RouteKey="GET /me")["ApiId"]
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="counting",
        AuthorizerType="REQUEST",
        AuthorizerUri=auth_arn,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization"],
        AuthorizerResultTtlInSeconds=ttl,
    )
    assert authorizer["AuthorizerResultTtlInSeconds"] == ttl
    (route,) = apigw.get_routes(ApiId=api_id)["Items"]
    apigw.update_route(
        ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"]
    )
    grant(lambda_client, function, api_id)
    grant(lambda_client, auth_arn, api_id, f"authorizers/{authorizer['AuthorizerId']}")
    host = f"{api_id}.execute-api.localhost"

    def call_id(token: str) -> str:
        answer = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", token)])
        assert answer.status == 200, answer.body
        return str(json.loads(answer.body)["requestContext"]["authorizer"]["lambda"]["call"])

    try:
        seen = [call_id("alice"), call_id("alice"), call_id("bob")]
        if ttl:
            assert seen[0] == seen[1] != seen[2]
        else:
            assert len(set(seen)) == 3
        for _ in range(2):  # a refusal is kept too, and stays a refusal
            refused = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", "nope")])
            assert (refused.status, json.loads(refused.body)) == (403, {"message": "Forbidden"})
    finally:
        apigw.delete_api(ApiId=api_id)
        lambda_client.delete_function(FunctionName=name)


SLOW_AUTHORIZER = """
import time

def handler(event, context):
    time.sleep(15)
    return {"isAuthorized": True}
"""


@pytest.mark.slow
def test_an_authorizer_that_does_not_answer_in_10_s_is_a_500(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    name = f"api-slow-{uuid.uuid4().hex[:10]}"
    auth_arn = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Timeout=30,
        Code={"ZipFile": make_zip({"app.py": SLOW_AUTHORIZER})},
    )["FunctionArn"]
    api_id = apigw.create_api(Name="slow", ProtocolType="HTTP", Target=function, RouteKey="GET /me")["ApiId"]
    try:
        authorizer = apigw.create_authorizer(
            ApiId=api_id,
            Name="slow",
            AuthorizerType="REQUEST",
            AuthorizerUri=auth_arn,
            AuthorizerPayloadFormatVersion="2.0",
            EnableSimpleResponses=True,
            IdentitySource=["$request.header.Authorization"],
        )
        (route,) = apigw.get_routes(ApiId=api_id)["Items"]
        apigw.update_route(
            ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"]
        )
        grant(lambda_client, function, api_id)
        grant(lambda_client, auth_arn, api_id, f"authorizers/{authorizer['AuthorizerId']}")
        host = f"{api_id}.execute-api.localhost"
        started = time.monotonic()
        answer = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", "x")])
        assert (answer.status, json.loads(answer.body)) == (500, {"message": "Internal Server Error"})
        assert 9 < time.monotonic() - started < 15  # refused at the authorizer's 10 s, before it returned
        assert http_call(lamina.port, host, "GET", "/nowhere").status == 404  # and the server keeps serving
    finally:
        apigw.delete_api(ApiId=api_id)
        lambda_client.delete_function(FunctionName=name)
