"""Requests through function URLs: the payload 2.0 event, the answer mapping, CORS, the two auth types and
the failures AWS answers with."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from tests.elbv2.conftest import http_call
from tests.function_urls.conftest import Url, host_of


def test_event_carries_the_request_as_aws_sends_it(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    answer = http_call(
        port,
        url.host,
        "POST",
        "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
        b'{"k": "v"}',
        [
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Cookie", "cookie1=value1; cookie2=value2"),
            ("User-Agent", "t/1"),
        ],
    )
    assert answer.status == 200, answer.body
    event = json.loads(answer.body)
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["cookies"] == ["cookie1=value1", "cookie2=value2"]
    assert event["headers"]["x-multi"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    assert "pathParameters" not in event and "stageVariables" not in event
    context = event["requestContext"]
    assert context["apiId"] == url.url_id and len(url.url_id) == 32
    assert context["domainName"] == url.host and context["domainPrefix"] == url.url_id
    assert context["http"] == {
        "method": "POST",
        "path": "/my/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "t/1",
    }
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["requestId"] == answer.header("X-Amzn-RequestId")[0]


def test_path_form_reaches_the_same_function(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    answer = http_call(port, "localhost", "GET", f"/_aws/lambda-url/{url.url_id}/inner?x=1")
    assert answer.status == 200, answer.body
    event = json.loads(answer.body)
    assert event["rawPath"] == "/inner" and event["queryStringParameters"] == {"x": "1"}


def test_binary_in_and_out(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    raw = bytes(range(256))
    sent = http_call(port, url.host, "PUT", "/up", raw, [("Content-Type", "application/octet-stream")])
    event = json.loads(sent.body)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw
    answer = http_call(port, url.host, "GET", "/binary")
    assert answer.status == 200 and answer.body == raw
    assert answer.header("Content-Type") == ["image/png"]


def test_answers_map_as_aws_recorded(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    string = http_call(port, url.host, "GET", "/string")
    assert (string.status, string.body, string.header("Content-Type")) == (200, b"hello", ["application/json"])
    assert http_call(port, url.host, "GET", "/dict").body == b'{"hello":"world"}'
    cookies = http_call(port, url.host, "GET", "/cookies")
    assert cookies.status == 202 and cookies.body == b"ok"
    assert cookies.header("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert cookies.header("X-Mine") == ["a"]


def test_function_errors_and_bad_answers_are_502(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    for path in ("/error", "/garbage", "/huge"):
        answer = http_call(port, url.host, "GET", path)
        assert answer.status == 502, path
        assert json.loads(answer.body) == {"message": "Internal Server Error"}


def test_auth_none_without_the_public_permission_is_403(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url(permission=False)
    answer = http_call(port, url.host, "GET", "/")
    assert answer.status == 403
    assert json.loads(answer.body)["Message"].startswith("Forbidden. For troubleshooting Function URL authorization")


def test_unknown_url_id_is_403_as_on_aws(port: int) -> None:
    answer = http_call(port, "a" * 32 + ".lambda-url.us-east-1.localhost", "GET", "/")
    assert (answer.status, answer.body) == (403, b'{"Message":null}')
    assert answer.header("x-amzn-ErrorType") == ["AccessDeniedException"]


def test_deleted_url_config_stops_answering(port: int, make_url: Callable[..., Url], lambda_client: object) -> None:
    url = make_url()
    assert http_call(port, url.host, "GET", "/string").status == 200
    lambda_client.delete_function_url_config(FunctionName=url.function)  # type: ignore[attr-defined]
    gone = http_call(port, url.host, "GET", "/string")
    assert (gone.status, gone.body) == (403, b'{"Message":null}')


def test_cors_preflight_and_response_headers(port: int, make_url: Callable[..., Url]) -> None:
    cors = {
        "AllowOrigins": ["https://app.example"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-mine"],
        "MaxAge": 300,
        "AllowCredentials": True,
    }
    url = make_url(Cors=cors)
    preflight = http_call(
        port,
        url.host,
        "OPTIONS",
        "/error",  # never reaches the function
        None,
        [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")],
    )
    assert preflight.status == 200
    assert preflight.header("Access-Control-Allow-Origin") == ["https://app.example"]
    assert preflight.header("Access-Control-Allow-Methods") == ["GET,POST"]
    assert preflight.header("Access-Control-Allow-Headers") == ["x-custom"]
    assert preflight.header("Access-Control-Max-Age") == ["300"]
    assert preflight.header("Access-Control-Allow-Credentials") == ["true"]
    answer = http_call(port, url.host, "GET", "/cookies", None, [("Origin", "https://app.example")])
    assert answer.header("Access-Control-Allow-Origin") == ["https://app.example"]  # over the function's own
    assert answer.header("Access-Control-Expose-Headers") == ["x-mine"]
    other = http_call(port, url.host, "GET", "/string", None, [("Origin", "https://evil.example")])
    assert other.header("Access-Control-Allow-Origin") == []


def _signed(url: Url, port: int, method: str, path: str, body: bytes, secret: str = "test") -> list[tuple[str, str]]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=f"http://{url.host}:{port}{path}", data=body)
    SigV4Auth(Credentials("test", secret), "lambda", "us-east-1").add_auth(request)
    return [(k, v) for k, v in request.headers.items() if k.lower() != "host"]


def test_aws_iam_refuses_unsigned_and_badly_signed_and_takes_signed(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url(auth="AWS_IAM")
    unsigned = http_call(port, url.host, "POST", "/p?q=1", b"{}")
    assert unsigned.status == 403 and json.loads(unsigned.body) == {"Message": "Forbidden"}
    bad = http_call(port, url.host, "POST", "/p?q=1", b"{}", _signed(url, port, "POST", "/p?q=1", b"{}", "wrong"))
    assert bad.status == 403
    assert json.loads(bad.body)["Message"].startswith("The request signature we calculated does not match")
    good = http_call(port, url.host, "POST", "/p?q=1", b"{}", _signed(url, port, "POST", "/p?q=1", b"{}"))
    assert good.status == 200, good.body
    iam = json.loads(good.body)["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == "test" and iam["accountId"] == "000000000000"
    tampered = http_call(port, url.host, "POST", "/p?q=2", b"{}", _signed(url, port, "POST", "/p?q=1", b"{}"))
    assert tampered.status == 403


def test_request_over_6_mb_is_413(port: int, make_url: Callable[..., Url]) -> None:
    url = make_url()
    answer = http_call(port, url.host, "POST", "/", b"x" * (6 * 1024 * 1024 + 1), [("Content-Type", "text/plain")])
    assert answer.status == 413
    assert "6291456" in json.loads(answer.body)["Message"]


def test_warm_requests_take_the_fast_path_and_answer_as_the_general_path(
    port: int, make_url: Callable[..., Url]
) -> None:
    cors = {"AllowOrigins": ["*"], "ExposeHeaders": ["x-mine"]}
    url = make_url(Cors=cors)

    def fast_taken() -> int:
        return int(json.loads(http_call(port, "localhost", "GET", "/health").body)["fastUrlRequests"])

    def call() -> tuple[int, list[tuple[str, str]], bytes]:
        answer = http_call(port, url.host, "GET", "/cookies", None, [("Origin", "https://a.example")])
        headers = [(k, v) for k, v in answer.headers if k.lower() not in ("x-amzn-requestid", "date")]
        return answer.status, headers, answer.body

    before = fast_taken()
    first = call()  # a cold start: the general path
    assert fast_taken() == before
    second = call()  # warm: the fast path
    assert fast_taken() == before + 1
    assert first == second
    assert ("Access-Control-Allow-Origin", "*") in second[1]


def test_alias_url_invokes_the_alias_version(port: int, make_url: Callable[..., Url], lambda_client: Any) -> None:
    url = make_url()
    version = lambda_client.publish_version(FunctionName=url.function)["Version"]
    lambda_client.create_alias(FunctionName=url.function, Name="live", FunctionVersion=version)
    aliased = lambda_client.create_function_url_config(FunctionName=url.function, Qualifier="live", AuthType="NONE")
    host = host_of(aliased["FunctionUrl"])
    assert http_call(port, host, "GET", "/string").status == 403  # the alias's own policy has no public grant
    lambda_client.add_permission(
        FunctionName=url.function,
        Qualifier="live",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    for _ in range(2):  # cold, then warm
        answer = http_call(port, host, "GET", "/x")
        assert answer.status == 200, answer.body
        assert json.loads(answer.body)["requestContext"]["apiId"] == host.split(".")[0]


def test_a_policy_change_is_seen_at_once(port: int, make_url: Callable[..., Url], lambda_client: Any) -> None:
    """The door keeps its policy verdicts only while the policy is unchanged."""
    url = make_url()
    assert http_call(port, url.host, "GET", "/string").status == 200
    lambda_client.remove_permission(FunctionName=url.function, StatementId="url")
    assert http_call(port, url.host, "GET", "/string").status == 403
    lambda_client.add_permission(
        FunctionName=url.function,
        StatementId="again",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    assert http_call(port, url.host, "GET", "/string").status == 200


DEEP = """
import sys

def handler(event, context):
    sys.setrecursionlimit(50000)
    if event["rawPath"] == "/deep":
        answer = []
        for _ in range(20000):
            answer = [answer]
        return {"statusCode": 200, "body": "x", "headers": {"x": answer}}
    return {"statusCode": 200, "body": "fine"}
"""


def test_an_answer_nested_past_the_parser_is_a_502_and_the_door_keeps_serving(
    port: int, make_url: Callable[..., Url]
) -> None:
    url = make_url(code=DEEP)
    deep = http_call(port, url.host, "GET", "/deep")
    assert (deep.status, json.loads(deep.body)) == (502, {"message": "Internal Server Error"})
    fine = http_call(port, url.host, "GET", "/")
    assert (fine.status, fine.body) == (200, b"fine")
