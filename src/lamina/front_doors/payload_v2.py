"""Payload format 2.0 (events.md §9): the event function URLs and HTTP API routes hand to a function, and
the rules that turn the function's answer back into HTTP.

The two doors differ only in a `Route`: a function URL is routeKey and stage `$default`, apiId the URL id
and no pathParameters / stageVariables keys (AWS omits them); an HTTP API route names its routeKey
(`ANY /pets/{id}`), stage, path parameters and stage variables. Everything else is shared.

Request side, as AWS builds it: header names lower-case, repeated headers and query keys comma-joined,
the `cookie` header moved to `cookies` (one entry per cookie), `queryStringParameters` / `cookies` / `body`
left out when the request has none, and the body base64-encoded (`isBase64Encoded: true`) unless its content
type is text. Response side: an object with `statusCode` is the structured form (`headers`, `cookies` as
`set-cookie` headers, `body`, `isBase64Encoded`); any other valid JSON is inferred as 200,
`application/json`, with a returned string as the body itself and any other value as its compact JSON text
(recorded from AWS: `"hello"` -> `hello`, `{"hello": "world"}` -> `{"hello":"world"}`); a function error or
an answer that is not JSON is a 502.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

from lamina.api.messages import Request, Response

# Content types AWS passes as text; every other body (also one without a content type, and form posts) is
# base64-encoded, as function URLs and HTTP APIs do.
_TEXT_PREFIXES = ("text/", "application/json", "application/javascript", "application/xml", "application/yaml")
_TEXT_SUFFIXES = ("+json", "+xml", "+yaml")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
INTERNAL_ERROR = b'{"message":"Internal Server Error"}'


@dataclass(frozen=True, slots=True)
class Route:
    """What one door puts in the event besides the request itself."""

    account_id: str
    api_id: str
    domain_name: str
    route_key: str = "$default"
    stage: str = "$default"
    path_parameters: dict[str, str] | None = None  # None: the key is left out
    stage_variables: dict[str, str] | None = None  # None: the key is left out
    authorizer: dict[str, Any] | None = None  # e.g. {"iam": {...}} for a function URL with AuthType AWS_IAM

    @property
    def domain_prefix(self) -> str:
        return self.domain_name.split(".", 1)[0]


def is_text(content_type: str, content_encoding: str = "") -> bool:
    """True when AWS hands a body of this type to the function as plain text."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return not content_encoding and (kind.startswith(_TEXT_PREFIXES) or kind.endswith(_TEXT_SUFFIXES))


def request_time(epoch_ms: int) -> str:
    """`requestContext.time`: `12/Mar/2020:19:03:58 +0000`."""
    return _second_text(epoch_ms // 1000)


@functools.lru_cache(maxsize=8)  # many requests a second share the text
def _second_text(second: int) -> str:
    t = time.gmtime(second)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _query(query_string: str) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        joined.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return {key: ",".join(values) for key, values in joined.items()}


def _cookies(request: Request) -> list[str]:
    out: list[str] = []
    for header in request.header_values("cookie"):
        out.extend(part.strip() for part in header.split(";") if part.strip())
    return out


def build_event(
    request: Request, route: Route, *, request_id: str, epoch_ms: int, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The payload 2.0 event for `request` arriving on `route`."""
    headers = {name: value for name, value in request.headers.items() if name != "cookie"}
    # What AWS's front end adds (the recorded function URL events show these four).
    headers.setdefault("x-amzn-trace-id", f"Root=1-{epoch_ms // 1000:08x}-{random.getrandbits(96):024x}")
    headers.setdefault("x-forwarded-for", source_ip)
    port = request.headers.get("host", "").rpartition(":")[2]
    headers.setdefault("x-forwarded-port", port if port.isdigit() else "80")
    headers.setdefault("x-forwarded-proto", "http")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
    }
    cookies = _cookies(request)
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query_string:
        event["queryStringParameters"] = _query(request.query_string)
    context: dict[str, Any] = {
        "accountId": route.account_id,
        "apiId": route.api_id,
    }
    if route.authorizer is not None:
        context["authorizer"] = route.authorizer
    context.update(
        {
            "domainName": route.domain_name,
            "domainPrefix": route.domain_prefix,
            "http": {
                "method": request.method,
                "path": unquote(request.path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": route.stage,
            "time": request_time(epoch_ms),
            "timeEpoch": epoch_ms,
        }
    )
    event["requestContext"] = context
    if route.path_parameters is not None:
        event["pathParameters"] = route.path_parameters
    if route.stage_variables is not None:
        event["stageVariables"] = route.stage_variables
    text = is_text(request.headers.get("content-type", ""), request.headers.get("content-encoding", ""))
    if request.body:
        event["body"] = request.body.decode("utf-8", "replace") if text else base64.b64encode(request.body).decode()
    event["isBase64Encoded"] = bool(request.body) and not text
    return event


def error_response() -> Response:
    """AWS's answer when the function fails or answers something it cannot map: 502."""
    return Response(502, [("Content-Type", "application/json")], INTERNAL_ERROR)


def to_response(payload: bytes) -> Response:
    """The HTTP answer for a function's successful result `payload` (its JSON text)."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past the parser's stack
        return error_response()
    if not isinstance(answer, dict) or "statusCode" not in answer:
        # Inferred: a string is the body; any other value its compact JSON text.
        if answer is None:
            body = b""
        elif isinstance(answer, str):
            body = answer.encode()
        else:
            body = json.dumps(answer, separators=(",", ":")).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    return _structured(answer)


def _structured(answer: dict[str, Any]) -> Response:
    status = answer.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return error_response()
    headers_in = answer.get("headers") or {}
    cookies = answer.get("cookies") or []
    if not isinstance(headers_in, dict) or not isinstance(cookies, list):
        return error_response()
    headers = [(str(name), _header_text(value)) for name, value in headers_in.items()]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, ("Content-Type", "application/json"))
    body = answer.get("body")
    raw: bytes
    if body is None:
        raw = b""
    elif answer.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError):
            return error_response()
    elif isinstance(body, str):
        raw = body.encode()
    else:  # a non-string body is sent as its JSON text
        raw = json.dumps(body, separators=(",", ":")).encode()
    return Response(status, headers, raw)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
