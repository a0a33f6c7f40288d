"""The application load balancer's front door: `http://<name>-<id>.<region>.elb.localhost:<port>/...`.

A request picks its load balancer by Host, its listener by port (the lowest-port listener when the port is
Lamina's own), its actions by the listener's rules; a forward to a `lambda` target group becomes the ALB event
(events.md §7) and one invocation as `elasticloadbalancing.amazonaws.com`. The function's answer maps back to
HTTP as ALB maps it: `statusCode`, `headers` (or `multiValueHeaders` when the target group's
`lambda.multi_value_headers.enabled` is on), `body`, `isBase64Encoded`. Failures get ALB's own HTML pages:
502 for a function error, a malformed or oversized answer, a body over 1 MB or a missing permission, 503 when
the target group has no function, 400 for a WebSocket upgrade.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import secrets
import time
import uuid
from typing import Any, Protocol

from lamina.api.front_door import host_name
from lamina.api.messages import Request, Response
from lamina.errors import LaminaError, Throttled
from lamina.services.elbv2.conditions import HttpFacts
from lamina.services.elbv2.engine import Elbv2Engine, pick_target_group
from lamina.services.elbv2.records import LoadBalancer, TargetGroup

log = logging.getLogger(__name__)

HOST_SUFFIX = ".elb.localhost"
MAX_BODY = 1 << 20  # request body and response JSON, as ALB limits Lambda targets
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "application/x-www-form")
_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
}


class FunctionCaller(Protocol):
    """What the door needs of Lambda (services/lambda_/service_invoker.py)."""

    def allowed(self, function_id: str, region: str, account: str, source_arn: str) -> bool: ...

    async def invoke(self, function_id: str, region: str, account: str, payload: bytes, request_id: str) -> Any: ...


def alb_page(status: int) -> Response:
    """ALB's own error page for `status`."""
    title = f"{status} {_REASONS.get(status, '')}".strip()
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    body += "</body>\r\n</html>\r\n"
    return Response(status, [("Content-Type", "text/html"), ("Server", "awselb/2.0")], body.encode())


def _is_text(content_type: str, content_encoding: str) -> bool:
    kind = content_type.lower()
    return not content_encoding and (kind.startswith(_TEXT_TYPES) or kind.split(";")[0].endswith(("+json", "+xml")))


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


class AlbDoor:
    def __init__(self, engine: Elbv2Engine, functions: FunctionCaller, rng: random.Random | None = None) -> None:
        self._engine = engine
        self._functions = functions
        self._rng = rng or random.Random()

    def claims(self, request: Request) -> bool:
        return host_name(request).endswith(HOST_SUFFIX)

    def body_cap(self, request: Request) -> int:
        return MAX_BODY

    def too_large(self, request: Request) -> Response:
        """A body over 1 MB never reaches the function: ALB answers 502."""
        return alb_page(502)

    async def serve(self, request: Request) -> Response:
        host = host_name(request)
        lb = self._engine.by_dns_name(host)
        if lb is None:
            message = {"message": f"No load balancer has the DNS name {host}"}
            return Response(404, [("Content-Type", "application/json")], json.dumps(message).encode())
        port_text = request.headers.get("host", "").rpartition(":")[2]
        listener = self._engine.listener_for(lb, int(port_text) if port_text.isdigit() else None)
        if listener is None:
            message = {"message": f"Load balancer {lb.name} has no listener"}
            return Response(503, [("Content-Type", "application/json")], json.dumps(message).encode())
        if request.headers.get("upgrade", "").lower() == "websocket":
            return alb_page(400)
        facts = HttpFacts(
            method=request.method,
            path=request.path,
            query_string=request.query_string,
            host=host,
            headers=self._headers(request),
            source_ip="127.0.0.1",
        )
        for action in self._engine.actions_for(listener, facts):
            kind = action.get("Type")
            if kind == "fixed-response":
                return _fixed(action.get("FixedResponseConfig") or {})
            if kind == "redirect":
                return _redirect(action.get("RedirectConfig") or {}, facts, port_text or str(listener.port))
            if kind == "forward":
                arn = pick_target_group(action, self._rng)
                tg = self._engine.target_groups.get(arn or "")
                if tg is None:
                    return alb_page(503)
                return await self._forward(lb, tg, request, facts, port_text or str(listener.port))
            # authenticate-* actions: Lamina has no identity provider; they pass through to the next action
        return alb_page(503)

    @staticmethod
    def _headers(request: Request) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {name: [value] for name, value in request.headers.items()}
        if request.repeated:
            out.update({name: list(values) for name, values in request.repeated.items()})
        return out

    async def _forward(
        self, lb: LoadBalancer, tg: TargetGroup, request: Request, facts: HttpFacts, port: str
    ) -> Response:
        if tg.target_type != "lambda" or not tg.targets:
            return alb_page(503)  # no function registered (instance and ip targets are never reached here)
        function_id = tg.targets[0]["Id"]
        if not self._functions.allowed(function_id, lb.region, lb.account, tg.arn):
            log.info("ALB %s: %s may not be invoked for %s", lb.name, function_id, tg.arn)
            return alb_page(502)
        if len(request.body) > MAX_BODY:
            return alb_page(502)
        event = self._event(tg, request, facts, port)
        try:
            out = await self._functions.invoke(
                function_id, lb.region, lb.account, json.dumps(event).encode(), str(uuid.uuid4())
            )
        except Throttled:
            return alb_page(503)
        except LaminaError as error:
            log.info("ALB %s: invoking %s failed: %s", lb.name, function_id, error.message)
            return alb_page(502)
        if out.get("FunctionError"):
            return alb_page(502)
        return _response(out.get("Payload") or b"", tg.multi_value)

    def _event(self, tg: TargetGroup, request: Request, facts: HttpFacts, port: str) -> dict[str, Any]:
        headers = {name: list(values) for name, values in facts.headers.items()}
        forwarded = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = [(forwarded[-1] + ", " if forwarded else "") + facts.source_ip]
        headers["x-forwarded-port"] = [port]
        headers["x-forwarded-proto"] = ["http"]
        headers.setdefault("x-amzn-trace-id", [_trace_id()])
        # ALB hands the query string over as sent (percent-encoding kept), split into pairs.
        pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in request.query_string.split("&") if p]
        body = request.body
        text = _is_text(request.headers.get("content-type", ""), request.headers.get("content-encoding", ""))
        encoded = bool(body) and not text
        event: dict[str, Any] = {
            "requestContext": {"elb": {"targetGroupArn": tg.arn}},
            "httpMethod": request.method,
            "path": request.path,
        }
        if tg.multi_value:
            query: dict[str, list[str]] = {}
            for key, value in pairs:
                query.setdefault(key, []).append(value)
            event["multiValueQueryStringParameters"] = query
            event["multiValueHeaders"] = headers
        else:  # the last value of a repeated name wins
            event["queryStringParameters"] = {key: value for key, value in pairs}
            event["headers"] = {name: values[-1] for name, values in headers.items()}
        event["body"] = base64.b64encode(body).decode() if encoded else body.decode("utf-8", "replace")
        event["isBase64Encoded"] = encoded
        return event


def _fixed(config: dict[str, Any]) -> Response:
    headers = [("Server", "awselb/2.0")]
    if config.get("ContentType"):
        headers.append(("Content-Type", config["ContentType"]))
    return Response(int(config.get("StatusCode") or 200), headers, (config.get("MessageBody") or "").encode())


def _redirect(config: dict[str, Any], facts: HttpFacts, port: str) -> Response:
    values = {"#{protocol}": "http", "#{host}": facts.host, "#{port}": port, "#{path}": facts.path.lstrip("/")}
    values["#{query}"] = facts.query_string

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    protocol = fill(config.get("Protocol") or "#{protocol}").lower()
    location = f"{protocol}://{fill(config.get('Host') or '#{host}')}:{fill(config.get('Port') or '#{port}')}"
    location += fill(config.get("Path") or "/#{path}")
    query = fill(config.get("Query") or "#{query}")
    if query:
        location += "?" + query
    status = 301 if config.get("StatusCode") == "HTTP_301" else 302
    return Response(status, [("Location", location), ("Server", "awselb/2.0")], b"")


def _response(payload: bytes, multi_value: bool) -> Response:
    """The HTTP answer for the function's JSON, or ALB's 502 when it is not one ALB takes."""
    if len(payload) > MAX_BODY:
        return alb_page(502)
    try:
        answer = json.loads(payload)
        status = int(answer["statusCode"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return alb_page(502)
    if not 100 <= status <= 599:
        return alb_page(502)
    headers: list[tuple[str, str]] = []
    if multi_value:
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in (values if isinstance(values, list) else [values]))
    else:
        headers.extend((str(name), str(value)) for name, value in (answer.get("headers") or {}).items())
    body = answer.get("body")
    raw: bytes
    if body is None:
        raw = b""
    elif answer.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError):
            return alb_page(502)
    elif isinstance(body, str):
        raw = body.encode()
    else:  # ALB takes only a string body
        return alb_page(502)
    headers.append(("Server", "awselb/2.0"))
    return Response(status, headers, raw)
