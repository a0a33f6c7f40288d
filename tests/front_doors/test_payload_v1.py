"""The payload 1.0 event and response rules, checked against what real API Gateway did
(conformance/aws-recorded/services__apigateway__test_apigateway_lambda.snapshot.json)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lamina.front_doors.payload_v1 import (
    ProxyFacts,
    build_event,
    build_response,
    media_type_matches,
    request_time,
)
from tests.conformance.snapshot import RECORDED

RECORDING = "services__apigateway__test_apigateway_lambda.snapshot.json"
PREFIX = "tests/aws/services/apigateway/test_apigateway_lambda.py::"
NOW = 1_583_349_317.135


def recorded(test: str, name: str) -> Any:
    return json.loads((RECORDED / RECORDING).read_text())[PREFIX + test]["recorded-content"][name]


def facts(**changes: Any) -> ProxyFacts:
    base: dict[str, Any] = {
        "account": "111111111111",
        "api_id": "abc123",
        "stage": "stage",
        "domain_name": "abc123.execute-api.localhost",
        "resource": "/{proxy+}",
        "resource_id": "r1",
        "path": "/proxy-value",
        "request_path": "/stage/proxy-value",
        "path_parameters": {"proxy": "proxy-value"},
    }
    base.update(changes)
    return ProxyFacts(**base)


def test_request_time_is_api_gateways_clf_format() -> None:
    assert request_time(NOW) == "04/Mar/2020:19:15:17 +0000"


def test_event_has_the_recorded_keys_and_nulls() -> None:
    want = recorded("test_lambda_aws_proxy_integration", "invocation-payload-without-trailing-slash")
    headers = [("User-Agent", "python-requests/testing"), ("tEsT-HEADeR", "aValUE"), ("Authorization", "random-value")]
    event = build_event(facts(deployment_id="d1"), "GET", headers, "", b"", "req-1", NOW)
    assert set(event) == set(want)
    assert set(event["requestContext"]) == set(want["requestContext"])
    assert event["requestContext"]["identity"] == {**want["requestContext"]["identity"], "sourceIp": "127.0.0.1"}
    for key in ("body", "queryStringParameters", "multiValueQueryStringParameters", "stageVariables"):
        assert event[key] is want[key] is None
    assert event["headers"]["tEsT-HEADeR"] == "aValUE"
    assert event["multiValueHeaders"]["tEsT-HEADeR"] == ["aValUE"]
    context = event["requestContext"]
    assert (context["path"], context["resourcePath"], context["stage"]) == ("/stage/proxy-value", "/{proxy+}", "stage")
    assert context["requestTimeEpoch"] == 1583349317135
    assert context["requestTime"] == "04/Mar/2020:19:15:17 +0000"
    assert context["domainPrefix"] == "abc123"
    assert len(context["extendedRequestId"]) == 16


def test_query_strings_decode_as_recorded() -> None:
    want = recorded("test_lambda_aws_proxy_integration", "invocation-payload-with-params-encoding")
    query = (
        "dateTimeOffset=2023-06-12T18:05:10.123456+00:00&email=test%2Balias@gmail.com&plus=test+alias@gmail.com"
        "&url=https://www.google.com/&whitespace=foo%20bar&zhash=abort/"
    )
    event = build_event(facts(), "GET", [], query, b"", "r", NOW)
    assert event["queryStringParameters"] == want["queryStringParameters"]
    assert event["multiValueQueryStringParameters"] == want["multiValueQueryStringParameters"]


def test_repeated_query_names_keep_the_last_in_the_single_map() -> None:
    want = recorded("test_lambda_aws_proxy_integration", "invocation-payload-with-params-encoding-multi")
    event = build_event(
        facts(), "POST", [], "category=electronics&category=books&price=10&price=20&price=30", b"", "r", NOW
    )
    assert event["queryStringParameters"] == want["queryStringParameters"]
    assert event["multiValueQueryStringParameters"] == want["multiValueQueryStringParameters"]


def test_repeated_headers_keep_the_last_in_the_single_map() -> None:
    event = build_event(facts(), "GET", [("X-A", "1"), ("X-A", "2")], "", b"", "r", NOW)
    assert event["headers"]["X-A"] == "2"
    assert event["multiValueHeaders"]["X-A"] == ["1", "2"]


def test_leading_slashes_collapse_in_path_but_not_in_the_context() -> None:
    want = recorded("test_lambda_aws_proxy_integration", "invocation-payload-with-prepended-slash")
    event = build_event(facts(path="//proxy-value", request_path="/stage//proxy-value"), "GET", [], "", b"", "r", NOW)
    assert event["path"] == want["path"]
    assert event["requestContext"]["path"] == want["requestContext"]["path"]


def test_body_is_text_unless_its_type_is_a_binary_media_type() -> None:
    headers = [("Content-Type", "image/png")]
    text = build_event(facts(), "POST", headers, "", b"\x89PNG", "r", NOW)
    assert (text["isBase64Encoded"], text["body"]) == (False, "\ufffdPNG")
    binary = build_event(facts(binary_media_types=("image/*",)), "POST", headers, "", b"\x89PNG", "r", NOW)
    assert (binary["isBase64Encoded"], binary["body"]) == (True, base64.b64encode(b"\x89PNG").decode())


def test_stage_variables_authorizer_and_version_appear_when_given() -> None:
    event = build_event(
        facts(stage_variables={"v": "1"}, authorizer={"principalId": "me"}, version="1.0"), "GET", [], "", b"", "r", NOW
    )
    assert event["version"] == "1.0"
    assert event["stageVariables"] == {"v": "1"}
    assert event["requestContext"]["authorizer"] == {"principalId": "me"}


def test_media_types_match_with_wildcards() -> None:
    assert media_type_matches("image/png; q=1", ("image/*",))
    assert media_type_matches("application/octet-stream", ("*/*",))
    assert not media_type_matches("text/plain", ("image/*", "application/octet-stream"))
    assert not media_type_matches("", ("*/*",))


# The function's answers of upstream's test_aws_proxy_response_payload_format_validation and what API Gateway
# made of them (status, body); the recorded content is the client's decoded JSON or text.
ANSWERS: list[tuple[str, Any, int]] = [
    ("invoke-api-no-body", {"statusCode": 200}, 200),
    ("invoke-api-with-headers", {"statusCode": 200, "headers": {"test-header": "value", "header-bool": True}}, 200),
    ("invoke-api-with-headers-null", {"statusCode": 200, "headers": None}, 200),
    ("invoke-api-wrong-format", {"statusCode": 200, "wrongValue": "value"}, 502),
    ("invoke-api-b64-encoded-true", {"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": True}, 200),
    ("invoke-api-b64-encoded-false", {"statusCode": 200, "body": "dGVzdC1kYXRh"}, 200),
    (
        "invoke-api-multi-headers-valid",
        {"statusCode": 200, "multiValueHeaders": {"test-multi": ["value1", "value2"]}},
        200,
    ),
    (
        "invoke-api-multi-headers-overwrite",
        {
            "statusCode": 200,
            "multiValueHeaders": {"test-multi": ["value-multi"]},
            "headers": {"test-multi": "value-solo"},
        },
        200,
    ),
    (
        "invoke-api-multi-headers-overwrite-casing",
        {
            "statusCode": 200,
            "multiValueHeaders": {"tesT-Multi": ["value-multi"]},
            "headers": {"test-multi": "value-solo"},
        },
        200,
    ),
    (
        "invoke-api-multi-headers-invalid",
        {"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}},
        502,
    ),
    ("invoke-api-invalid-status-code", {"statusCode": "test"}, 502),
    ("invoke-api-status-code-str", {"statusCode": "201"}, 201),
    ("invoke-api-just-string", "justAString", 502),
    ("invoke-api-only-headers", {"headers": {"test-header": "value"}}, 200),
]
_ADDED_BY_AWS = {"connection", "content-length", "date", "via", "x-cache", "x-amzn-requestid", "x-amz-apigw-id"}


@pytest.mark.parametrize(("name", "answer", "status"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers_map_as_api_gateway_mapped_them(name: str, answer: Any, status: int) -> None:
    want = recorded("test_aws_proxy_response_payload_format_validation", name)
    response = build_response(json.dumps(answer).encode(), "*/*", ())
    assert response.status == status
    try:
        content: Any = json.loads(response.body)
    except ValueError:
        content = response.body.decode()
    assert content == want["content"]
    if "headers" in want:
        joined: dict[str, list[str]] = {}
        for key, value in response.headers:
            joined.setdefault(key, []).append(value)
        live = {key: ", ".join(values) for key, values in joined.items()}
        expected = {
            k: v for k, v in want["headers"].items() if k.lower() not in _ADDED_BY_AWS and not k.startswith("X-Amz")
        }
        assert live == expected


def test_a_base64_answer_is_decoded_when_the_client_accepts_a_binary_type() -> None:
    answer = {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    response = build_response(json.dumps(answer).encode(), "application/octet-stream", ("application/octet-stream",))
    assert response.body == b"\x00\x01"


def test_an_answer_that_is_not_json_is_a_502() -> None:
    response = build_response(b"not json", "*/*", ())
    assert (response.status, json.loads(response.body)) == (502, {"message": "Internal server error"})
