"""Lambda REQUEST authorizers and JWT authorizers of HTTP APIs.

The identity sources (`$request.header.Authorization`, `$request.querystring.token`, ...) must all be present,
else the request is refused with 401 {"message":"Unauthorized"} before the authorizer runs. The authorizer
function is invoked as `apigateway.amazonaws.com` for `arn:aws:execute-api:<region>:<acct>:<api>/authorizers/
<id>` with the payload 1.0 event plus `type`, `methodArn` and `identitySource` (comma-joined), or the 2.0 one
plus `type`, `routeArn` and `identitySource` (a list). Its answer is `{"isAuthorized": bool, "context": {...}}`
with EnableSimpleResponses, else an IAM policy (`principalId`, `policyDocument`, `context`) whose Allow
statements must cover the route's ARN. A refusal is 403 {"message":"Forbidden"}; a failing or malformed
authorizer, or one that has not answered in 10 s, is 500. The context reaches the integration at
requestContext.authorizer.lambda. With
AuthorizerResultTtlInSeconds the answer is kept that long for the same identity values (authorizer_cache.py).
JWT authorizers validate the token (jwt_authorizer.py).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lamina.api.messages import Request, Response
from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.front_doors import payload_v1
from lamina.front_doors.authorizer_cache import AuthorizerCache, cache_key
from lamina.front_doors.jwt_authorizer import JwksCache, TokenRefused, validate
from lamina.services.apigatewayv2.records import HttpApi, function_of

log = logging.getLogger(__name__)

AUTHORIZER_TIMEOUT = 10.0  # seconds an HTTP API waits for a Lambda authorizer, then answers 500


@dataclass(frozen=True)
class Verdict:
    refusal: Response | None  # the answer instead of the integration's, when the request may not pass
    context: dict[str, Any] | None = None  # what the integration sees at requestContext.authorizer


def identity_values(sources: list[str], request: Request, path_parameters: dict[str, str]) -> list[str] | None:
    """The values of the identity source expressions, None when any is missing."""
    values: list[str] = []
    for source in sources:
        value: str | None = None
        if source.startswith("$request.header."):
            value = request.headers.get(source.removeprefix("$request.header.").lower())
        elif source.startswith("$request.querystring."):
            found = request.query.get(source.removeprefix("$request.querystring."))
            value = ",".join(found) if found else None
        elif source.startswith("$request.path."):
            value = path_parameters.get(source.removeprefix("$request.path."))
        else:  # $context.* and $stageVariables.* are always there as far as Lamina knows
            value = source
        if not value:
            return None
        values.append(value)
    return values


def unauthorized() -> Response:
    return payload_v1.json_message(401, "Unauthorized")


def forbidden() -> Response:
    return payload_v1.json_message(403, "Forbidden")


def internal_error() -> Response:
    return payload_v1.json_message(500, "Internal Server Error")


def policy_allows(document: Any, route_arn: str) -> bool:
    """An IAM policy answer allows when an Allow statement covers the route and no Deny does."""
    if not isinstance(document, dict):
        return False
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", str(a)) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(route_arn, str(r)) for r in resources):
            continue
        if str(statement.get("Effect")) == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


@dataclass(frozen=True)
class Guards:
    """What the door keeps across requests for its authorizers."""

    clock: Clock
    results: AuthorizerCache
    keys: JwksCache


async def authorize(
    functions: Any,
    guards: Guards,
    api: HttpApi,
    authorizer: dict[str, Any],
    request: Request,
    event_v1: dict[str, Any],
    event_v2: Callable[[], dict[str, Any]],
    route_arn: str,
    path_parameters: dict[str, str],
    route_scopes: list[str],
) -> Verdict:
    sources = list(authorizer.get("IdentitySource") or [])
    values = identity_values(sources, request, path_parameters)
    if values is None:
        return Verdict(unauthorized())
    if authorizer.get("AuthorizerType") == "JWT":
        config = dict(authorizer.get("JwtConfiguration") or {})
        try:
            claims = await validate(guards.keys, guards.clock, config, values[0], route_scopes)
        except TokenRefused as refused:
            return Verdict(refused.response())
        return Verdict(None, claims)
    key = cache_key(api.api_id, authorizer, values)
    answer = guards.results.get(key) if sources else None  # no identity: nothing to key a kept answer by
    if answer is None:
        found = await _ask(functions, api, authorizer, event_v1, event_v2, route_arn, values)
        if isinstance(found, Response):
            return Verdict(found)
        answer = found
        if sources:
            guards.results.put(key, answer, int(authorizer.get("AuthorizerResultTtlInSeconds") or 0))
    return _judge(authorizer, answer, route_arn)


async def _ask(
    functions: Any,
    api: HttpApi,
    authorizer: dict[str, Any],
    event_v1: dict[str, Any],
    event_v2: Callable[[], dict[str, Any]],
    route_arn: str,
    values: list[str],
) -> dict[str, Any] | Response:
    """The authorizer function's well-formed answer, else the door's answer to the request."""
    function_id = function_of(authorizer.get("AuthorizerUri") or "")
    source_arn = f"arn:aws:execute-api:{api.region}:{api.account}:{api.api_id}/authorizers/{authorizer['AuthorizerId']}"
    if not functions.allowed(function_id, api.region, api.account, source_arn):
        log.info("HTTP API %s: authorizer %s may not be invoked for %s", api.api_id, function_id, source_arn)
        return internal_error()
    event: dict[str, Any]
    if authorizer.get("AuthorizerPayloadFormatVersion") == "2.0":
        event = {"version": "2.0", "type": "REQUEST", "routeArn": route_arn, "identitySource": values}
        event.update({k: v for k, v in event_v2().items() if k != "version"})
    else:
        event = {"type": "REQUEST", "methodArn": route_arn, "identitySource": ",".join(values), **event_v1}
    try:
        out = await asyncio.wait_for(
            functions.invoke(function_id, api.region, api.account, json.dumps(event).encode(), str(uuid.uuid4())),
            AUTHORIZER_TIMEOUT,
        )
    except TimeoutError:
        log.info("HTTP API %s: authorizer %s did not answer within %ss", api.api_id, function_id, AUTHORIZER_TIMEOUT)
        return internal_error()
    except LaminaError as error:
        log.info("HTTP API %s: authorizer %s failed: %s", api.api_id, function_id, error.message)
        return internal_error()
    if out.get("FunctionError"):
        return internal_error()
    try:
        answer = json.loads(out.get("Payload") or b"")
    except (ValueError, RecursionError):
        return internal_error()
    if not isinstance(answer, dict):
        return internal_error()
    context = answer.get("context")
    if context is not None and not isinstance(context, dict):
        return internal_error()
    if authorizer.get("EnableSimpleResponses"):
        if not isinstance(answer.get("isAuthorized"), bool):
            return internal_error()
    elif "policyDocument" not in answer:
        return internal_error()
    return answer


def _judge(authorizer: dict[str, Any], answer: dict[str, Any], route_arn: str) -> Verdict:
    if authorizer.get("EnableSimpleResponses"):
        allowed = answer["isAuthorized"]
    else:
        allowed = policy_allows(answer["policyDocument"], route_arn)
    if not allowed:
        return Verdict(forbidden())
    found: dict[str, Any] = {"lambda": answer.get("context") or {}}
    if answer.get("principalId") is not None:
        found["principalId"] = answer["principalId"]
    return Verdict(None, found)
