"""Requests through an application load balancer to a Lambda target: the ALB event, the response mapping,
multi-value headers on and off, listener rules, and ALB's answers when something fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.elbv2.conftest import Alb, http_call
from tests.server import LaminaProcess


def test_event_carries_the_request_as_alb_sends_it(lamina: LaminaProcess, make_alb: Callable[..., Alb]) -> None:
    alb = make_alb()
    answer = http_call(
        lamina.port,
        alb.dns,
        "POST",
        "/items/a%20b?q=1%202&q=last&flag",
        b'{"k": "v"}',
        [("Content-Type", "application/json"), ("X-Repeated", "one"), ("X-Repeated", "two"), ("User-Agent", "t/1")],
    )
    assert answer.status == 201, answer.body
    assert answer.header("X-Echo") == ["yes"]
    assert answer.header("Server") == ["awselb/2.0"]
    event = json.loads(answer.body)
    assert event["requestContext"] == {"elb": {"targetGroupArn": alb.tg_arn}}
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/items/a%20b"
    # Multi-value off: the last value of a repeated key wins; values stay percent-encoded, as ALB passes them.
    assert event["queryStringParameters"] == {"q": "last", "flag": ""}
    assert event["headers"]["x-repeated"] == "two"
    assert event["headers"]["user-agent"] == "t/1"
    assert event["headers"]["host"] == f"{alb.dns}:{lamina.port}"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    assert "multiValueHeaders" not in event and "multiValueQueryStringParameters" not in event
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False


def test_binary_bodies_are_base64_both_ways(lamina: LaminaProcess, make_alb: Callable[..., Alb]) -> None:
    alb = make_alb()
    raw = bytes(range(256))
    event = json.loads(
        http_call(lamina.port, alb.dns, "PUT", "/upload", raw, [("Content-Type", "application/octet-stream")]).body
    )
    assert event["isBase64Encoded"] is True
    import base64

    assert base64.b64decode(event["body"]) == raw
    answer = http_call(lamina.port, alb.dns, "GET", "/binary")
    assert answer.status == 200 and answer.body == raw
    assert answer.header("Content-Type") == ["image/png"]


def test_multi_value_headers_on_and_off(lamina: LaminaProcess, make_alb: Callable[..., Alb]) -> None:
    on = make_alb(multi_value=True)
    sent = [("X-Repeated", "one"), ("X-Repeated", "two")]
    event = json.loads(http_call(lamina.port, on.dns, "GET", "/?q=1&q=2", headers=sent).body)
    assert event["multiValueHeaders"]["x-repeated"] == ["one", "two"]
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert "headers" not in event and "queryStringParameters" not in event
    answer = http_call(lamina.port, on.dns, "GET", "/cookies")
    assert answer.header("Set-Cookie") == ["a=1", "b=2"]
    assert answer.header("X-Single") == ["many"]  # multiValueHeaders is the one used
    off = make_alb()
    answer = http_call(lamina.port, off.dns, "GET", "/cookies")
    assert answer.header("Set-Cookie") == [] and answer.header("X-Single") == ["one"]


def test_rules_pick_actions_by_priority(lamina: LaminaProcess, make_alb: Callable[..., Alb], elbv2: Any) -> None:
    alb = make_alb()
    listener = alb.listener_arn

    def fixed(status: str, text: str) -> list[dict[str, Any]]:
        config = {"StatusCode": status, "ContentType": "text/plain", "MessageBody": text}
        return [{"Type": "fixed-response", "FixedResponseConfig": config}]

    elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/static/*"]}],
        Actions=fixed("200", "static"),
    )
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/static/special?"]}},
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Tier", "Values": ["GOLD"]}},
        ],
        Actions=fixed("202", "special"),
    )
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=20,
        Conditions=[{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "mode", "Value": "te*"}]}}],
        Actions=fixed("418", "query"),
    )
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=30,
        Conditions=[{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["DELETE"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302", "Path": "/moved/#{path}"}}],
    )
    static = http_call(lamina.port, alb.dns, "GET", "/static/app.js")
    assert (static.status, static.body, static.header("Content-Type")) == (200, b"static", ["text/plain"])
    special = http_call(lamina.port, alb.dns, "GET", "/static/special1", headers=[("X-Tier", "gold")])
    assert (special.status, special.body) == (202, b"special")  # priority 5 first; header values ignore case
    assert http_call(lamina.port, alb.dns, "GET", "/static/special1").body == b"static"  # no header: next rule
    assert http_call(lamina.port, alb.dns, "GET", "/STATIC/app.js").status == 201  # paths are case-sensitive
    assert http_call(lamina.port, alb.dns, "GET", "/x?mode=TEST").status == 418
    moved = http_call(lamina.port, alb.dns, "DELETE", "/old?a=1")
    assert moved.status == 302
    assert moved.header("Location") == [f"http://{alb.dns}:{lamina.port}/moved/old?a=1"]
    assert http_call(lamina.port, alb.dns, "GET", "/plain").status == 201  # the default action forwards


def test_failures_get_albs_answers(
    lamina: LaminaProcess, make_alb: Callable[..., Alb], elbv2: Any, lambda_client: Any
) -> None:
    alb = make_alb()
    for path in ("/error", "/garbage", "/dict-body", "/huge"):
        answer = http_call(lamina.port, alb.dns, "GET", path)
        assert answer.status == 502, path
        assert b"<title>502 Bad Gateway</title>" in answer.body
        assert answer.header("Content-Type") == ["text/html"]
    big = http_call(lamina.port, alb.dns, "POST", "/", b"x" * ((1 << 20) + 1), [("Content-Type", "text/plain")])
    assert big.status == 502
    fine = http_call(lamina.port, alb.dns, "POST", "/", b"x" * 1000, [("Content-Type", "text/plain")])
    assert fine.status == 201  # the server kept serving
    assert http_call(lamina.port, alb.dns, "GET", "/", headers=[("Upgrade", "websocket")]).status == 400
    unknown = http_call(lamina.port, "nobody-1.us-east-1.elb.localhost")
    assert unknown.status == 404 and b"nobody-1.us-east-1.elb.localhost" in unknown.body
    # The permission is checked on every request, as ALB's invocation is judged by the function's policy.
    lambda_client.remove_permission(FunctionName=alb.function, StatementId="elb")
    assert http_call(lamina.port, alb.dns).status == 502
    # A target group without a function: 503.
    empty = make_alb(permission=False)
    answer = http_call(lamina.port, empty.dns)
    assert answer.status == 503 and b"503 Service Temporarily Unavailable" in answer.body
