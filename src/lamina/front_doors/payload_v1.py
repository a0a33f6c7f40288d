"""API Gateway's Lambda proxy payload, format 1.0 (events.md §8): the event a REST API (or an HTTP API route
with PayloadFormatVersion 1.0) hands its function, and the rules by which the function's answer becomes HTTP.

The door resolves the route (API, stage, resource, path parameters, authorizer) and gives this module the
facts; the module only translates. The two APIs differ in small ways that `ProxyFacts` carries: REST keeps
the client's header casing and names its resource (`/{proxy+}`) in `resource`, an HTTP API lower-cases header
names, names its route key instead and adds `"version": "1.0"`.

What AWS does, as recorded (conformance/aws-recorded, test_apigateway_lambda):
- `headers` holds the last value of a repeated header, `multiValueHeaders` all of them; the query string
  likewise, decoded (`+` is a space); both query fields are null when there is no query string, and
  `pathParameters` / `stageVariables` are null when empty.
- `path` is the path after the stage with its leading slashes collapsed to one; `requestContext.path` is the
  path the client asked for, stage included, as sent.
- The body is text unless its Content-Type matches one of the API's binaryMediaTypes, then base64.
- The answer must be a JSON object with at most `statusCode`, `headers`, `multiValueHeaders`, `body`,
  `isBase64Encoded`; anything else (another key, a statusCode that is not a number, a multiValueHeaders
  value that is not a list, a body that is not a string) is a 502 {"message": "Internal server error"}.
  A missing statusCode is 200; `headers` and `multiValueHeaders` merge, multi-value first, under the
  multi-value spelling of the name. A base64 body is decoded only when the client's Accept names a binary
  media type, else it is sent as the text it is.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from lamina.api.messages import Response

_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_IDENTITY_NULLS = (
    "accessKey",
    "accountId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
)


@dataclass(frozen=True)
class ProxyFacts:
    """One request as the door resolved it: what the event says beyond the HTTP message itself."""

    account: str
    api_id: str
    stage: str
    domain_name: str
    resource: str  # REST: the resource path (`/{proxy+}`); HTTP API: the route key
    resource_id: str | None
    path: str  # the path after the stage, as sent
    request_path: str  # the whole path the client asked for (requestContext.path)
    path_parameters: dict[str, str] = field(default_factory=dict)
    stage_variables: dict[str, str] = field(default_factory=dict)
    deployment_id: str | None = None
    authorizer: dict[str, Any] | None = None
    binary_media_types: tuple[str, ...] = ()
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    version: str | None = None  # "1.0" for an HTTP API, absent for REST


def request_time(epoch: float) -> str:
    """`04/Mar/2020:19:15:17 +0000`, as requestContext.requestTime has it."""
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def extended_request_id() -> str:
    """Like API Gateway's `extendedRequestId`: 16 characters of URL-safe base64 ending in `=`."""
    return base64.b64encode(secrets.token_bytes(11)).decode()[:15].replace("+", "-").replace("/", "_") + "="


def media_type_matches(content_type: str, patterns: tuple[str, ...]) -> bool:
    """Whether `content_type` matches one of binaryMediaTypes (`*/*` and `image/*` wildcards included)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not kind:
        return False
    major = kind.split("/", 1)[0]
    for pattern in patterns:
        p = pattern.strip().lower()
        if p in (kind, "*/*") or (p.endswith("/*") and p[:-2] == major):
            return True
    return False


def _header_lookup(headers: list[tuple[str, str]], name: str) -> str:
    for key, value in reversed(headers):
        if key.lower() == name:
            return value
    return ""


def build_event(
    facts: ProxyFacts,
    method: str,
    headers: list[tuple[str, str]],
    query_string: str,
    body: bytes,
    request_id: str,
    now: float,
) -> dict[str, Any]:
    """The payload 1.0 event. `headers` are in the order received, names spelled as the event shows them."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query: dict[str, str] | None = None
    multi_query: dict[str, list[str]] | None = None
    pairs = parse_qsl(query_string, keep_blank_values=True) if query_string else []
    if pairs:
        query, multi_query = {}, {}
        for key, value in pairs:
            query[key] = value
            multi_query.setdefault(key, []).append(value)
    binary = bool(body) and media_type_matches(_header_lookup(headers, "content-type"), facts.binary_media_types)
    text: str | None
    if not body:
        text = None
    elif binary:
        text = base64.b64encode(body).decode()
    else:
        text = body.decode("utf-8", "replace")
    identity: dict[str, Any] = {name: None for name in _IDENTITY_NULLS}
    identity["sourceIp"] = facts.source_ip
    identity["user"] = None
    identity["userAgent"] = _header_lookup(headers, "user-agent") or None
    identity["userArn"] = None
    context: dict[str, Any] = {"accountId": facts.account, "apiId": facts.api_id}
    if facts.authorizer is not None:
        context["authorizer"] = facts.authorizer
    if facts.deployment_id is not None:
        context["deploymentId"] = facts.deployment_id
    context.update(
        {
            "domainName": facts.domain_name,
            "domainPrefix": facts.domain_name.split(".", 1)[0],
            "extendedRequestId": extended_request_id(),
            "httpMethod": method,
            "identity": identity,
            "path": facts.request_path,
            "protocol": facts.protocol,
            "requestId": request_id,
            "requestTime": request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": facts.resource_id,
            "resourcePath": facts.resource,
            "stage": facts.stage,
        }
    )
    event: dict[str, Any] = {}
    if facts.version is not None:
        event["version"] = facts.version
    event.update(
        {
            "resource": facts.resource,
            "path": "/" + facts.path.lstrip("/"),
            "httpMethod": method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "requestContext": context,
            "pathParameters": dict(facts.path_parameters) or None,
            "stageVariables": dict(facts.stage_variables) or None,
            "body": text,
            "isBase64Encoded": binary,
        }
    )
    return event


def internal_error() -> Response:
    """API Gateway's answer when the integration fails or answers in a shape it does not take."""
    return json_message(502, "Internal server error")


def json_message(status: int, message: str, key: str = "message") -> Response:
    """API Gateway's own JSON answers: `{"message": ...}` (an explicit Deny spells it `Message`)."""
    body = json.dumps({key: message}).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_response(payload: bytes, accept: str, binary_media_types: tuple[str, ...]) -> Response:
    """The HTTP answer for the function's output, or the 502 when API Gateway would not take it."""
    try:
        answer = json.loads(payload)
    except (ValueError, RecursionError):  # nested past the parser's stack: no answer API Gateway takes
        return internal_error()
    if not isinstance(answer, dict) or not set(answer) <= _RESPONSE_KEYS:
        return internal_error()
    status_value = answer.get("statusCode", 200)
    try:
        status = int(status_value)
    except (TypeError, ValueError):
        return internal_error()
    if isinstance(status_value, bool) or not 100 <= status <= 599:
        return internal_error()
    merged: dict[str, tuple[str, list[str]]] = {}  # lower-case name -> (spelling, values)
    multi = answer.get("multiValueHeaders") or {}
    single = answer.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        return internal_error()
    for name, values in multi.items():
        if not isinstance(values, list):
            return internal_error()
        merged.setdefault(name.lower(), (name, []))[1].extend(_value_text(v) for v in values)
    for name, value in single.items():
        if value is None:
            continue
        merged.setdefault(name.lower(), (name, []))[1].append(_value_text(value))
    headers = [(name, value) for name, values in merged.values() for value in values]
    if "content-type" not in merged:
        headers.append(("Content-Type", "application/json"))
    body = answer.get("body")
    raw: bytes
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        return internal_error()
    elif answer.get("isBase64Encoded") is True and _wants_binary(accept, binary_media_types):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return internal_error()
    else:
        raw = body.encode()
    return Response(status, headers, raw)


def _wants_binary(accept: str, binary_media_types: tuple[str, ...]) -> bool:
    """API Gateway turns a base64 answer into bytes when the client's first Accept type is a binary one."""
    first = accept.split(",", 1)[0]
    return media_type_matches(first, binary_media_types)
