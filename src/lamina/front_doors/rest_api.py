"""API Gateway REST API stages as HTTP: `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` (also
`<api-id>.execute-api.<region>.localhost`) and, on any host, `/restapis/<api-id>/<stage>/_user_request_/<path>`.

A request is routed through the stage's deployment (services/apigateway/engine.py), passes the method's
Lambda authorizer when it has one, becomes the payload 1.0 event (payload_v1.py) and one invocation as
`apigateway.amazonaws.com`, judged by the function's resource policy for the source ARN
`arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<resource path>` (an integration with
`credentials`, an IAM role, is invoked as that role: Lamina has no IAM, so it is taken as allowed).

REST APIs hand the function header names as the client spelled them (Request.spelled).

API Gateway's own answers: 403 {"message": "Missing Authentication Token"} for an unknown stage, path or
method; 413 for a body over 10 MB; 502 {"message": "Internal server error"} for a function error or an answer
it does not take; 500 {"message": "Internal server error"} when the function may not or cannot be invoked;
504 {"message": "Endpoint request timed out"} after the integration's timeout (29 s unless set lower);
401 {"message": "Unauthorized"} without the authorizer's identity source, 403 {"Message": "User is not
authorized to access this resource[ with an explicit deny]"} when its policy does not allow, and 500
{"message": null} when the authorizer fails, answers garbage or takes over 29 s. Authorizer answers are
kept for authorizerResultTtlInSeconds (authorizer_cache.py). HTTP_PROXY integrations send the request on
(http_proxy.py), MOCK ones answer from the configuration (mock_integration.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import json
import logging
import re
import secrets
import uuid
from typing import Any, Protocol

from lamina.api.front_door import host_name
from lamina.api.messages import Request, Response
from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.front_doors import http_proxy
from lamina.front_doors.authorizer_cache import AuthorizerCache, cache_key
from lamina.front_doors.mock_integration import mock_response
from lamina.front_doors.payload_v1 import ProxyFacts, build_event, build_response, internal_error, json_message
from lamina.services.apigateway.engine import ApiGatewayEngine, RestApi, Route
from lamina.services.apigateway.provider import lambda_function_of

log = logging.getLogger(__name__)

HOST_MARK = ".execute-api."
MAX_BODY = 10 << 20
AUTHORIZER_TIMEOUT = 29.0  # seconds a Lambda authorizer may take (API Gateway's integration limit), then 500
_HOP_HEADERS = {"connection", "content-length", "transfer-encoding", "keep-alive", "expect"}
# Names API Gateway spells its own way whatever the client sent (as recorded: `authorization` → `Authorization`).
_SPELLED_BY_AWS = {"authorization": "Authorization"}


class FunctionCaller(Protocol):
    """What the door needs of Lambda (services/lambda_/service_invoker.py)."""

    def allowed(self, function_id: str, region: str, account: str, source_arn: str) -> bool: ...

    async def invoke(self, function_id: str, region: str, account: str, payload: bytes, request_id: str) -> Any: ...


def missing_token() -> Response:
    response = json_message(403, "Missing Authentication Token")
    response.headers.append(("x-amzn-ErrorType", "MissingAuthenticationTokenException"))
    return response


def unauthorized() -> Response:
    response = json_message(401, "Unauthorized")
    response.headers.append(("x-amzn-ErrorType", "UnauthorizedException"))
    return response


def denied(message: str) -> Response:
    response = json_message(403, message, key="Message")
    response.headers.append(("x-amzn-ErrorType", "AccessDeniedException"))
    return response


def authorizer_failed() -> Response:
    """API Gateway's answer when the authorizer fails or answers garbage: a 500 whose message is null."""
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AuthorizerConfigurationException")]
    return Response(500, headers, b'{"message":null}')


class RestApiDoor:
    def __init__(
        self,
        engine: ApiGatewayEngine,
        functions: FunctionCaller,
        clock: Clock,
        port: int = 4566,
        authorizer_results: AuthorizerCache | None = None,
    ) -> None:
        self._engine = engine
        self._functions = functions
        self._clock = clock
        self._port = port
        # answers kept for authorizerResultTtlInSeconds (shared with the provider's FlushStageAuthorizersCache)
        self._authorizer_results = AuthorizerCache(clock) if authorizer_results is None else authorizer_results

    def claims(self, request: Request) -> bool:
        if HOST_MARK in host_name(request) and host_name(request).endswith(".localhost"):
            return True
        return request.path.startswith("/restapis/") and "/_user_request_" in request.path

    def body_cap(self, request: Request) -> int:
        return MAX_BODY

    def too_large(self, request: Request) -> Response:
        return json_message(413, "Request Too Long")

    def _locate(self, request: Request) -> tuple[str, str, str, str] | None:
        """(api id, stage, path after the stage, domain name) of the request."""
        host = host_name(request)
        if HOST_MARK in host and host.endswith(".localhost"):
            api_id = host.split(".", 1)[0]
            path = "/" + request.path.lstrip("/")  # `//stage/x` reaches the stage too
            stage, _, rest = path[1:].partition("/")
            return api_id, stage, "/" + rest if rest or path.endswith("/") else "/", host
        parts = request.path.split("/", 5)  # ['', 'restapis', id, stage, '_user_request_', rest]
        if len(parts) < 5 or parts[4] != "_user_request_":
            return None
        rest = parts[5] if len(parts) > 5 else ""
        return parts[2], parts[3], "/" + rest, f"{parts[2]}.execute-api.localhost"

    async def serve(self, request: Request) -> Response:
        located = self._locate(request)
        if located is None:
            return missing_token()
        api_id, stage_name, path, domain = located
        api = self._engine.apis.get(api_id)
        if api is None or stage_name not in api.stages:
            return missing_token()
        route = self._engine.route(api, stage_name, request.method, path)
        if route is None:
            return missing_token()
        stage = api.stages[stage_name]
        resource_path = route.resource["path"]
        method_arn = (
            f"arn:aws:execute-api:{api.region}:{api.account}:{api.id}/{stage_name}/{request.method}/{path.lstrip('/')}"
        )
        request_id = str(uuid.uuid4())
        headers = self._headers(request)
        facts = ProxyFacts(
            account=api.account,
            api_id=api.id,
            stage=stage_name,
            domain_name=domain,
            resource=resource_path,
            resource_id=route.resource["id"],
            path=path,
            request_path=("/" + stage_name + path) if HOST_MARK in host_name(request) else request.path,
            path_parameters=route.path_parameters,
            stage_variables=dict(stage.get("variables") or {}),
            deployment_id=stage.get("deploymentId"),
            binary_media_types=tuple(api.doc.get("binaryMediaTypes") or ()),
        )
        authorizer_id = route.method.get("authorizerId")
        if route.method.get("authorizationType") == "CUSTOM" and authorizer_id in api.authorizers:
            verdict = await self._authorize(api, api.authorizers[authorizer_id], request, headers, facts, method_arn)
            if isinstance(verdict, Response):
                return verdict
            facts = dataclasses.replace(facts, authorizer=verdict)
        return await self._integrate(api, route, request, headers, facts, request_id)

    def _headers(self, request: Request) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, value in request.headers.items():
            if name in _HOP_HEADERS:
                continue
            values = request.repeated.get(name, [value]) if request.repeated else [value]
            spelling = _SPELLED_BY_AWS.get(name) or request.header_spelling(name)
            out.extend((spelling, v) for v in values)
        forwarded = request.headers.get("x-forwarded-for")
        out = [(k, v) for k, v in out if k.lower() not in ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto")]
        out.append(("X-Forwarded-For", (forwarded + ", " if forwarded else "") + "127.0.0.1"))
        out.append(("X-Forwarded-Port", str(self._port)))
        out.append(("X-Forwarded-Proto", "http"))
        if "x-amzn-trace-id" not in request.headers:
            out.append(("X-Amzn-Trace-Id", f"Root=1-{int(self._clock.time()):08x}-{secrets.token_hex(12)}"))
        return out

    async def _integrate(
        self,
        api: RestApi,
        route: Route,
        request: Request,
        headers: list[tuple[str, str]],
        facts: ProxyFacts,
        request_id: str,
    ) -> Response:
        integration = route.method.get("methodIntegration") or {}
        if integration.get("type") == "MOCK":
            return mock_response(integration, request)
        if integration.get("type") == "HTTP_PROXY":
            return await self._proxy(api, integration, request, facts)
        function = lambda_function_of(integration.get("uri") or "")
        if integration.get("type") != "AWS_PROXY" or function is None:
            log.info("REST API %s: integration type %s is not served by Lamina", api.id, integration.get("type"))
            return json_message(500, "Internal server error")
        source_arn = (
            f"arn:aws:execute-api:{api.region}:{api.account}:{api.id}/{facts.stage}/{request.method}{facts.resource}"
        )
        if not integration.get("credentials") and not self._functions.allowed(
            function, api.region, api.account, source_arn
        ):
            log.info("REST API %s: %s may not be invoked for %s", api.id, function, source_arn)
            return json_message(500, "Internal server error")
        event = build_event(
            facts, request.method, headers, request.query_string, request.body, request_id, self._clock.time()
        )
        timeout = int(integration.get("timeoutInMillis") or 29000) / 1000
        try:
            out = await asyncio.wait_for(
                self._functions.invoke(function, api.region, api.account, json.dumps(event).encode(), request_id),
                timeout,
            )
        except TimeoutError:
            return json_message(504, "Endpoint request timed out")
        except LaminaError as error:
            log.info("REST API %s: invoking %s failed: %s", api.id, function, error.message)
            return json_message(500, "Internal server error")
        if out.get("FunctionError"):
            return internal_error()
        return build_response(out.get("Payload") or b"", request.headers.get("accept", ""), facts.binary_media_types)

    async def _proxy(self, api: RestApi, integration: dict[str, Any], request: Request, facts: ProxyFacts) -> Response:
        """An HTTP_PROXY integration: the request sent on to the integration's URI, its answer passed back."""
        target = http_proxy.target_of(
            integration.get("uri") or "", integration.get("httpMethod") or "ANY", request, facts.path_parameters
        )
        headers = http_proxy.forwarded_headers(request, self._port)
        timeout = int(integration.get("timeoutInMillis") or 29000) / 1000
        try:
            return await http_proxy.send(target, headers, request.body, timeout)
        except TimeoutError:
            return json_message(504, "Endpoint request timed out")
        except http_proxy.Unreachable as error:
            log.info("REST API %s: %s %s failed: %s", api.id, target.method, target.url, error)
            return json_message(500, "Internal server error")

    async def _authorize(
        self,
        api: RestApi,
        authorizer: dict[str, Any],
        request: Request,
        headers: list[tuple[str, str]],
        facts: ProxyFacts,
        method_arn: str,
    ) -> dict[str, Any] | Response:
        """The requestContext.authorizer for a request the Lambda authorizer lets through, else the answer."""
        function = lambda_function_of(authorizer.get("authorizerUri") or "")
        sources = [s.strip() for s in (authorizer.get("identitySource") or "").split(",") if s.strip()]
        values = [self._identity(source, request, facts) for source in sources]
        if any(not v for v in values):
            return unauthorized()
        if authorizer["type"] == "TOKEN":
            event: dict[str, Any] = {"type": "TOKEN", "methodArn": method_arn, "authorizationToken": values[0]}
            expression = authorizer.get("identityValidationExpression")
            if expression and not re.fullmatch(expression, values[0] or ""):
                return unauthorized()
        else:
            event = build_event(
                facts, request.method, headers, request.query_string, b"", str(uuid.uuid4()), self._clock.time()
            )
            event = {"type": "REQUEST", "methodArn": method_arn, **event}
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
        key = cache_key(api.id, authorizer, [v or "" for v in values])
        cached = self._authorizer_results.get(key) if sources else None
        if cached is None:
            asked = await self._ask_authorizer(api, function, event)
            if isinstance(asked, Response):
                return asked
            cached = asked
            if sources:
                self._authorizer_results.put(key, cached, int(authorizer.get("authorizerResultTtlInSeconds") or 0))
        answer, latency = cached
        statements, principal = answer["policyDocument"]["Statement"], answer["principalId"]
        effect = _effect(statements, method_arn)
        if effect == "Deny":
            return denied("User is not authorized to access this resource with an explicit deny")
        if effect != "Allow":
            return denied("User is not authorized to access this resource")
        context = answer.get("context") or {}
        result: dict[str, Any] = {k: v for k, v in context.items() if isinstance(v, str | int | float | bool)}
        result["principalId"] = str(principal)
        result["integrationLatency"] = latency
        return result

    async def _ask_authorizer(
        self, api: RestApi, function: str | None, event: dict[str, Any]
    ) -> tuple[dict[str, Any], int] | Response:
        """The authorizer's well-formed answer and how long it took (ms), else the door's answer."""
        failed = authorizer_failed()
        if function is None:
            return failed
        started = self._clock.monotonic()
        try:
            out = await asyncio.wait_for(
                self._functions.invoke(
                    function, api.region, api.account, json.dumps(event).encode(), str(uuid.uuid4())
                ),
                AUTHORIZER_TIMEOUT,
            )
        except (LaminaError, TimeoutError):
            return failed
        payload = out.get("Payload") or b""
        if out.get("FunctionError"):
            try:
                message = json.loads(payload).get("errorMessage")
            except (ValueError, AttributeError, RecursionError):
                message = None
            return unauthorized() if message == "Unauthorized" else failed
        try:
            answer = json.loads(payload)
            statements = answer["policyDocument"]["Statement"]
            principal = answer["principalId"]
            if not isinstance(statements, list) or not isinstance(principal, str | int):
                return failed
        except (ValueError, TypeError, KeyError, RecursionError):
            return failed
        return answer, int((self._clock.monotonic() - started) * 1000)

    @staticmethod
    def _identity(source: str, request: Request, facts: ProxyFacts) -> str | None:
        if source.startswith("method.request.header."):
            return request.headers.get(source[len("method.request.header.") :].lower())
        if source.startswith("method.request.querystring."):
            values = request.query.get(source[len("method.request.querystring.") :])
            return values[-1] if values else None
        if source.startswith("stageVariables."):
            return facts.stage_variables.get(source[len("stageVariables.") :])
        if source.startswith("context."):
            return {"context.httpMethod": request.method, "context.stage": facts.stage}.get(source)
        return None


def _effect(statements: list[Any], method_arn: str) -> str | None:
    """ "Deny" when a statement denies the method ARN, else "Allow" when one allows it, else None."""
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions if isinstance(a, str)):
            continue
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources if isinstance(r, str)):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            allowed = True
    return "Allow" if allowed else None
