"""Payload format 2.0: the event built from a Request and the answer built from the function's result."""

from __future__ import annotations

import base64
import json

from lamina.api.messages import Request
from lamina.front_doors.payload_v2 import Route, build_event, error_response, is_text, request_time, to_response

URL = Route(account_id="123456789012", api_id="a" * 32, domain_name="a" * 32 + ".lambda-url.us-east-1.localhost")
EPOCH_MS = 1583348638390


def _request(**overrides: object) -> Request:
    fields: dict[str, object] = {
        "method": "POST",
        "path": "/my/path%20x",
        "query_string": "parameter1=value1&parameter1=value2&parameter2=a%2Bb",
        "headers": {"host": URL.domain_name, "user-agent": "agent", "content-type": "text/plain", "x-h": "1,2"},
        "body": b"Hello from client!",
    }
    fields.update(overrides)
    return Request(**fields)  # type: ignore[arg-type]


def _event(request: Request, route: Route = URL) -> dict[str, object]:
    return build_event(request, route, request_id="rid", epoch_ms=EPOCH_MS, source_ip="1.2.3.4")


def test_function_url_event_has_the_aws_fields() -> None:
    event = _event(_request())
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path%20x"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=a%2Bb"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "a+b"}
    assert event["body"] == "Hello from client!"
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event and "stageVariables" not in event and "cookies" not in event
    context = event["requestContext"]
    assert context == {
        "accountId": "123456789012",
        "apiId": "a" * 32,
        "domainName": URL.domain_name,
        "domainPrefix": "a" * 32,
        "http": {
            "method": "POST",
            "path": "/my/path x",
            "protocol": "HTTP/1.1",
            "sourceIp": "1.2.3.4",
            "userAgent": "agent",
        },
        "requestId": "rid",
        "routeKey": "$default",
        "stage": "$default",
        "time": "04/Mar/2020:19:03:58 +0000",
        "timeEpoch": EPOCH_MS,
    }


def test_headers_are_lower_case_comma_joined_and_cookies_move_to_their_array() -> None:
    request = _request(
        headers={"content-type": "text/plain", "x-multi": "a,b", "cookie": "c1=1; c2=2,c3=3"},
        repeated={"cookie": ["c1=1; c2=2", "c3=3"], "x-multi": ["a", "b"]},
    )
    event = _event(request)
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["x-multi"] == "a,b"
    assert "cookie" not in headers
    assert headers["x-forwarded-for"] == "1.2.3.4"
    assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-port"] == "80"
    assert str(headers["x-amzn-trace-id"]).startswith("Root=1-")
    assert event["cookies"] == ["c1=1", "c2=2", "c3=3"]


def test_binary_and_form_bodies_are_base64_and_a_missing_body_leaves_the_key_out() -> None:
    raw = bytes(range(256))
    for content_type in ("application/octet-stream", "image/png", "application/x-www-form-urlencoded", ""):
        event = _event(_request(headers={"content-type": content_type} if content_type else {}, body=raw))
        assert event["isBase64Encoded"] is True, content_type
        assert base64.b64decode(str(event["body"])) == raw
    empty = _event(_request(method="GET", body=b"", query_string=""))
    assert "body" not in empty and "queryStringParameters" not in empty
    assert empty["isBase64Encoded"] is False


def test_text_types_are_the_ones_aws_passes_as_text() -> None:
    assert is_text("application/json; charset=utf-8")
    assert is_text("application/vnd.api+json")
    assert is_text("text/html")
    assert not is_text("text/plain", "gzip")
    assert not is_text("application/pdf")


def test_http_api_route_adds_route_key_stage_and_parameters() -> None:
    route = Route(
        account_id="123456789012",
        api_id="abc123",
        domain_name="abc123.execute-api.localhost",
        route_key="ANY /pets/{id}",
        stage="prod",
        path_parameters={"id": "7"},
        stage_variables={"v": "1"},
    )
    event = _event(_request(path="/pets/7"), route)
    assert event["routeKey"] == "ANY /pets/{id}"
    assert event["pathParameters"] == {"id": "7"} and event["stageVariables"] == {"v": "1"}
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["stage"] == "prod" and context["domainPrefix"] == "abc123"


def test_request_time_is_the_access_log_format() -> None:
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"


def test_structured_answer_maps_status_headers_cookies_and_body() -> None:
    answer = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Flag": True},
        "cookies": ["a=b; Max-Age=78000", "c=d"],
        "body": "made",
    }
    response = to_response(json.dumps(answer).encode())
    assert response.status == 201
    assert ("Content-Type", "text/plain") in response.headers and ("X-Flag", "true") in response.headers
    assert [v for n, v in response.headers if n == "Set-Cookie"] == ["a=b; Max-Age=78000", "c=d"]
    assert response.body == b"made"


def test_structured_binary_body_is_decoded() -> None:
    raw = bytes(range(256))
    payload = {"statusCode": 200, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    response = to_response(json.dumps(payload).encode())
    assert response.body == raw


def test_json_without_status_code_is_inferred_as_200_json() -> None:
    # As recorded from AWS (tests/conformance/aws-recorded, TestLambdaURL::test_lambda_url_invocation[...]).
    cases = {
        b'{"hello": "world"}': b'{"hello":"world"}',
        b'"hello"': b"hello",
        b'["hello", 3, true]': b'["hello",3,true]',
        b"3": b"3",
        b"true": b"true",
    }
    for payload, body in cases.items():
        response = to_response(payload)
        assert response.status == 200
        assert response.headers == [("Content-Type", "application/json")]
        assert response.body == body


def test_unmappable_answers_are_502_internal_server_error() -> None:
    for payload in (
        b"not json",
        b'{"statusCode":"abc"}',
        b'{"statusCode":99}',
        b'{"statusCode":200,"body":"%%","isBase64Encoded":true}',
    ):
        response = to_response(payload)
        assert response.status == 502, payload
        assert json.loads(response.body) == {"message": "Internal Server Error"}
    assert error_response().status == 502
