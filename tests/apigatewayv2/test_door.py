"""The execute-api door end to end: boto3 builds the API, a plain HTTP client calls it by Host."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.apigatewayv2.conftest import grant
from tests.elbv2.conftest import http_call
from tests.server import LaminaProcess


def _api(apigw: Any, function_arn: str, *route_keys: str, version: str = "1.0", timeout: int = 30000) -> str:
    api_id: str = apigw.create_api(Name="door", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=function_arn,
        PayloadFormatVersion=version,
        TimeoutInMillis=timeout,
    )
    for key in route_keys:
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def _event(answer: Any) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    event: dict[str, Any] = json.loads(answer.body)
    return event


def test_a_route_invokes_its_function_with_payload_1_0(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = _api(apigw, function, "GET /items/{id}", "ANY /{proxy+}")
    grant(lambda_client, function, api_id)
    host = f"{api_id}.execute-api.localhost"
    answer = http_call(lamina.port, host, "GET", "/items/42?color=red&color=blue", headers=[("X-Thing", "a")])
    event = _event(answer)
    assert answer.header("X-Echo") == ["yes"]
    assert event["version"] == "1.0" and event["resource"] == "GET /items/{id}"
    assert event["path"] == "/items/42" and event["pathParameters"] == {"id": "42"}
    assert event["multiValueQueryStringParameters"] == {"color": ["red", "blue"]}
    assert event["headers"]["x-thing"] == "a"
    assert event["requestContext"]["apiId"] == api_id and event["requestContext"]["stage"] == "$default"
    # The most specific route wins; the greedy one takes the rest.
    other = _event(http_call(lamina.port, host, "POST", "/items/42", body=b"hi"))
    assert other["resource"] == "ANY /{proxy+}" and other["pathParameters"] == {"proxy": "items/42"}
    assert other["body"] == "hi"
    # The regional host form names the same API.
    assert _event(http_call(lamina.port, f"{api_id}.execute-api.us-east-1.localhost", "GET", "/items/7"))["path"] == (
        "/items/7"
    )
    apigw.delete_api(ApiId=api_id)


def test_named_stages_are_a_path_prefix_with_stage_variables(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = apigw.create_api(Name="staged", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function, PayloadFormatVersion="1.0"
    )
    apigw.create_route(ApiId=api_id, RouteKey="GET /hello", Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api_id, StageName="prod", StageVariables={"color": "blue"})
    grant(lambda_client, function, api_id, "prod/GET/hello")
    host = f"{api_id}.execute-api.localhost"
    assert http_call(lamina.port, host, "GET", "/prod/hello").status == 404  # not deployed yet
    apigw.create_deployment(ApiId=api_id, StageName="prod")
    event = _event(http_call(lamina.port, host, "GET", "/prod/hello"))
    assert event["path"] == "/hello" and event["requestContext"]["path"] == "/prod/hello"
    assert event["stageVariables"] == {"color": "blue"} and event["requestContext"]["stage"] == "prod"
    # A route added after the deployment is not served until the next one.
    apigw.create_route(ApiId=api_id, RouteKey="GET /later", Target=f"integrations/{integration['IntegrationId']}")
    assert http_call(lamina.port, host, "GET", "/prod/later").status == 404
    apigw.delete_api(ApiId=api_id)


def test_failures_get_http_apis_answers(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = _api(apigw, function, "GET /{proxy+}")
    host = f"{api_id}.execute-api.localhost"
    internal = (500, {"message": "Internal Server Error"})
    no_permission = http_call(lamina.port, host, "GET", "/anything")
    assert (no_permission.status, json.loads(no_permission.body)) == internal
    grant(lambda_client, function, api_id)
    for path in ("/error", "/garbage"):
        answer = http_call(lamina.port, host, "GET", path)
        assert (answer.status, json.loads(answer.body)) == internal, path
    missing = http_call(lamina.port, host, "POST", "/anything")
    assert (missing.status, json.loads(missing.body)) == (404, {"message": "Not Found"})
    apigw.delete_api(ApiId=api_id)
    # A deleted API's host is no longer claimed by the door.
    assert http_call(lamina.port, host, "GET", "/anything").status != 200


@pytest.mark.slow
def test_the_integration_timeout_is_a_503(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = _api(apigw, function, "$default", timeout=1000)
    grant(lambda_client, function, api_id)
    answer = http_call(lamina.port, f"{api_id}.execute-api.localhost", "GET", "/slow")
    assert (answer.status, json.loads(answer.body)) == (503, {"message": "Service Unavailable"})
    apigw.delete_api(ApiId=api_id)


def test_cors_preflight_is_answered_at_the_door_and_headers_added(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = _api(apigw, function, "ANY /{proxy+}")
    apigw.update_api(
        ApiId=api_id,
        CorsConfiguration={
            "AllowOrigins": ["https://example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["Content-Type"],
            "MaxAge": 300,
        },
    )
    grant(lambda_client, function, api_id)
    host = f"{api_id}.execute-api.localhost"
    origin = ("Origin", "https://example.com")
    preflight = http_call(
        lamina.port, host, "OPTIONS", "/things", headers=[origin, ("Access-Control-Request-Method", "POST")]
    )
    assert preflight.status == 204
    assert preflight.header("access-control-allow-origin") == ["https://example.com"]
    assert preflight.header("access-control-allow-methods") == ["GET,POST"]
    assert preflight.header("access-control-max-age") == ["300"]
    answer = http_call(lamina.port, host, "GET", "/things", headers=[origin])
    assert answer.status == 200 and answer.header("access-control-allow-origin") == ["https://example.com"]
    stranger = http_call(lamina.port, host, "GET", "/things", headers=[("Origin", "https://evil.example")])
    assert stranger.header("access-control-allow-origin") == []
    apigw.delete_api(ApiId=api_id)


def test_quick_create_serves_payload_2_0(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    function = make_function()
    api_id = apigw.create_api(Name="v2", ProtocolType="HTTP", Target=function, RouteKey="GET /pets/{id}")["ApiId"]
    grant(lambda_client, function, api_id)
    host = f"{api_id}.execute-api.localhost"
    event = _event(http_call(lamina.port, host, "GET", "/pets/9?a=1&a=2", headers=[("Cookie", "c1=x; c2=y")]))
    assert event["version"] == "2.0" and event["routeKey"] == "GET /pets/{id}"
    assert event["rawPath"] == "/pets/9" and event["pathParameters"] == {"id": "9"}
    assert event["queryStringParameters"] == {"a": "1,2"} and event["cookies"] == ["c1=x", "c2=y"]
    assert event["requestContext"]["stage"] == "$default" and event["requestContext"]["http"]["method"] == "GET"
    assert "stageVariables" not in event
    assert http_call(lamina.port, host, "GET", "/cats/9").status == 404
    apigw.update_route(ApiId=api_id, RouteId=apigw.get_routes(ApiId=api_id)["Items"][0]["RouteId"], RouteKey="$default")
    for path in ("/error", "/garbage"):  # HTTP APIs answer 500 where function URLs answer 502
        answer = http_call(lamina.port, host, "GET", path)
        assert (answer.status, json.loads(answer.body)) == (500, {"message": "Internal Server Error"}), path
    apigw.delete_api(ApiId=api_id)
