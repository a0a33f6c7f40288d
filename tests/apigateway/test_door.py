"""REST API stages served over HTTP: the payload 1.0 event as recorded from AWS, the answers API Gateway gives
of its own, Lambda authorizers, and a stage that still serves after a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.apigateway.conftest import AUTHORIZER, Api, build_api, make_function
from tests.elbv2.conftest import http_call
from tests.front_doors.test_payload_v1 import ANSWERS, recorded
from tests.server import LaminaProcess

UA = [("User-Agent", "python-requests/testing")]


def event_of(lamina: LaminaProcess, api: Api, path: str, **kwargs: Any) -> dict[str, Any]:
    answer = http_call(lamina.port, api.host(), path=path, **kwargs)
    assert answer.status == 200, answer.body
    event: dict[str, Any] = json.loads(answer.body)
    return event


# (recorded entry, path asked for; None: the path form's equivalent is checked too)
REQUESTS = [
    ("invocation-payload-without-trailing-slash", "/stage/proxy-value"),
    ("invocation-payload-with-trailing-slash", "/stage/proxy-value/"),
    ("invocation-payload-with-double-slash", "/stage/proxy-value//double-slash"),
    ("invocation-payload-with-prepended-slash-to-stage", "//stage/proxy-value"),
    ("invocation-payload-with-prepended-slash", "/stage//proxy-value"),
    ("invocation-payload-without-trailing-slash-and-query-params", "/stage/proxy-value?urlparam=test"),
    ("invocation-payload-with-trailing-slash-and-query-params", "/stage/proxy-value/?urlparam=test"),
    (
        "invocation-payload-with-path-encoded-email",
        "/stage/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
    ),
    (
        "invocation-payload-with-params-encoding",
        "/stage/proxy-value/api?dateTimeOffset=2023-06-12T18:05:10.123456+00:00&email=test%2Balias@gmail.com"
        "&plus=test+alias@gmail.com&url=https://www.google.com/&whitespace=foo%20bar&zhash=abort/",
    ),
]
COMPARED = (
    "resource",
    "path",
    "httpMethod",
    "pathParameters",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "stageVariables",
    "body",
    "isBase64Encoded",
)
CONTEXT = ("path", "resourcePath", "stage", "httpMethod", "protocol", "accountId")


def test_events_match_the_recorded_proxy_events(lamina: LaminaProcess, make_api: Callable[..., Api]) -> None:
    api = make_api(stage="stage")  # the recordings show their stage as "stage"
    for entry, path in REQUESTS:
        want = recorded("test_lambda_aws_proxy_integration", entry)
        event = event_of(lamina, api, path, headers=[*UA, ("tEsT-HEADeR", "aValUE"), ("authorization", "random-value")])
        assert set(event) == set(want), entry
        for key in COMPARED:
            assert event[key] == want[key], (entry, key)
        context = event["requestContext"]
        assert set(context) == set(want["requestContext"]), entry
        for key in CONTEXT:
            assert str(context[key]).replace("000000000000", "111111111111") == want["requestContext"][key], key
        assert context["apiId"] == context["domainPrefix"] == api.id
        assert context["resourceId"] == api.resource
        assert context["identity"]["userAgent"] == "python-requests/testing"
        assert set(context["identity"]) == set(want["requestContext"]["identity"])
        assert event["headers"]["Authorization"] == "random-value"  # sent as `authorization`: AWS spells it so
        assert event["headers"]["tEsT-HEADeR"] == event["multiValueHeaders"]["tEsT-HEADeR"][0] == "aValUE"
        assert event["headers"]["User-Agent"] == "python-requests/testing"
        assert event["multiValueHeaders"]["Host"] == [f"{api.host()}:{lamina.port}"]
        for added in ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Amzn-Trace-Id"):
            assert added in event["headers"]


def test_repeated_query_names_and_a_post_body(lamina: LaminaProcess, make_api: Callable[..., Api]) -> None:
    api = make_api()
    want = recorded("test_lambda_aws_proxy_integration", "invocation-payload-with-params-encoding-multi")
    answer = http_call(
        lamina.port,
        api.host(),
        "POST",
        "/test/proxy-value?category=electronics&category=books&price=10&price=20&price=30",
        body=b'{"message": "hello world"}',
        headers=[*UA, ("Content-Type", "application/json;charset=utf-8")],
    )
    event = json.loads(answer.body)
    assert event["queryStringParameters"] == want["queryStringParameters"]
    assert event["multiValueQueryStringParameters"] == want["multiValueQueryStringParameters"]
    assert json.loads(event["body"]) == want["body"]
    assert "Content-Length" not in event["headers"]  # as recorded: API Gateway drops it


def test_the_path_form_reaches_the_same_stage(lamina: LaminaProcess, make_api: Callable[..., Api]) -> None:
    api = make_api()
    answer = http_call(lamina.port, "localhost", path=f"/restapis/{api.id}/test/_user_request_/a/b?x=1")
    assert answer.status == 200, answer.body
    event = json.loads(answer.body)
    assert (event["path"], event["pathParameters"], event["queryStringParameters"]) == (
        "/a/b",
        {"proxy": "a/b"},
        {"x": "1"},
    )


def test_answers_map_as_recorded(lamina: LaminaProcess, make_api: Callable[..., Api]) -> None:
    api = make_api()
    for entry, answer_json, status in ANSWERS:
        want = recorded("test_aws_proxy_response_payload_format_validation", entry)
        answer = http_call(lamina.port, api.host(), "POST", "/test/answer", body=json.dumps(answer_json).encode())
        assert answer.status == status, entry
        try:
            content: Any = json.loads(answer.body)
        except ValueError:
            content = answer.body.decode()
        assert content == want["content"], entry


def test_api_gateways_own_answers(lamina: LaminaProcess, make_api: Callable[..., Api], apigateway: Any) -> None:
    api = make_api()
    token = {"message": "Missing Authentication Token"}
    for host, path in [
        (api.host(), "/nostage/x"),
        ("zzzzzzzzzz.execute-api.localhost", "/test/x"),
        (api.host(), "/test"),
    ]:
        answer = http_call(lamina.port, host, path=path)
        assert (answer.status, json.loads(answer.body)) == (403, token), path
        assert answer.header("x-amzn-ErrorType") == ["MissingAuthenticationTokenException"]
    answer = http_call(lamina.port, api.host(), path="/test/error")
    assert (answer.status, json.loads(answer.body)) == (502, {"message": "Internal server error"})
    unpermitted = make_api(permission=False)
    answer = http_call(lamina.port, unpermitted.host(), path="/test/x")
    assert (answer.status, json.loads(answer.body)) == (500, {"message": "Internal server error"})
    answer = http_call(lamina.port, api.host(), "POST", "/test/x", body=b"x" * ((10 << 20) + 1))
    assert answer.status == 413


def test_a_region_host_and_stage_variables(
    lamina: LaminaProcess, make_api: Callable[..., Api], apigateway: Any
) -> None:
    api = make_api()
    apigateway.update_stage(
        restApiId=api.id,
        stageName="test",
        patchOperations=[{"op": "replace", "path": "/variables/color", "value": "blue"}],
    )
    answer = http_call(lamina.port, f"{api.id}.execute-api.us-east-1.localhost", path="/test/x")
    event = json.loads(answer.body)
    assert event["stageVariables"] == {"color": "blue"}


def test_binary_media_types_base64_the_request_body(
    lamina: LaminaProcess, make_api: Callable[..., Api], apigateway: Any
) -> None:
    api = make_api()
    apigateway.update_rest_api(
        restApiId=api.id, patchOperations=[{"op": "add", "path": "/binaryMediaTypes/image~1png"}]
    )
    assert apigateway.get_rest_api(restApiId=api.id)["binaryMediaTypes"] == ["image/png"]
    answer = http_call(
        lamina.port, api.host(), "POST", "/test/x", body=b"\x89PNG\x00", headers=[("Content-Type", "image/png")]
    )
    event = json.loads(answer.body)
    assert (event["isBase64Encoded"], event["body"]) == (True, "iVBORwA=")


def _with_authorizer(apigateway: Any, lambda_client: Any, kind: str) -> Api:
    _, arn = make_function(lambda_client, AUTHORIZER)
    api = build_api(apigateway, lambda_client, stage="s")
    region = apigateway.meta.region_name
    authorizer = apigateway.create_authorizer(
        restApiId=api.id,
        name="auth",
        type=kind,
        authorizerUri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        identitySource="method.request.header.Authorization" if kind == "TOKEN" else "method.request.header.X-Token",
        authorizerResultTtlInSeconds=0,
    )
    apigateway.put_method(
        restApiId=api.id,
        resourceId=api.resource,
        httpMethod="ANY",
        authorizationType="CUSTOM",
        authorizerId=authorizer["id"],
    )
    apigateway.put_integration(
        restApiId=api.id,
        resourceId=api.resource,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{api.function_arn}/invocations",
    )
    apigateway.create_deployment(restApiId=api.id, stageName="s")
    assert [a["id"] for a in apigateway.get_authorizers(restApiId=api.id)["items"]] == [authorizer["id"]]
    return api


@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST"])
def test_lambda_authorizers(lamina: LaminaProcess, apigateway: Any, lambda_client: Any, kind: str) -> None:
    api = _with_authorizer(apigateway, lambda_client, kind)
    header = "Authorization" if kind == "TOKEN" else "X-Token"

    kinds = {401: "UnauthorizedException", 403: "AccessDeniedException", 500: "AuthorizerConfigurationException"}

    def call(token: str | None) -> tuple[int, Any]:
        answer = http_call(lamina.port, api.host(), path="/s/x", headers=[(header, token)] if token else [])
        if answer.status in kinds:
            assert answer.header("x-amzn-ErrorType") == [kinds[answer.status]]
        return answer.status, json.loads(answer.body)

    status, event = call("allow")
    assert status == 200
    assert event["requestContext"]["authorizer"]["principalId"] == "user-1"
    assert event["requestContext"]["authorizer"]["tenant"] == "t1"
    assert event["requestContext"]["authorizer"]["n"] == 7
    assert call(None) == (401, {"message": "Unauthorized"})
    assert call("deny") == (403, {"Message": "User is not authorized to access this resource with an explicit deny"})
    assert call("unauthorized") == (401, {"message": "Unauthorized"})
    assert call("fail") == (500, {"message": None})
    assert call("garbage") == (500, {"message": None})
    apigateway.delete_rest_api(restApiId=api.id)


@pytest.mark.slow
def test_the_integration_timeout_is_a_504(lamina: LaminaProcess, make_api: Callable[..., Api], apigateway: Any) -> None:
    api = make_api()
    region = apigateway.meta.region_name
    apigateway.put_integration(
        restApiId=api.id,
        resourceId=api.resource,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{api.function_arn}/invocations",
        timeoutInMillis=1000,
    )
    apigateway.create_deployment(restApiId=api.id, stageName="test")
    answer = http_call(lamina.port, api.host(), path="/test/slow")
    assert (answer.status, json.loads(answer.body)) == (504, {"message": "Endpoint request timed out"})


@pytest.mark.slow
def test_a_stage_serves_after_a_restart(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    api = build_api(server.client("apigateway"), server.client("lambda"))
    server.stop()
    server = fresh_lamina()
    assert server.client("apigateway").get_rest_api(restApiId=api.id)["id"] == api.id
    answer = http_call(server.port, api.host(), path="/test/after")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["pathParameters"] == {"proxy": "after"}
