"""The HTTP API front door: `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` (also
`<api-id>.execute-api.<region>.localhost`). The `$default` stage has no path prefix, a named stage is the
first path segment. The stage's deployment picks the route (most specific first, then `$default`), the
route its integration; an AWS_PROXY integration invokes its function as `apigateway.amazonaws.com` with
the payload 1.0 (front_doors/payload_v1.py) or 2.0 (payload_v2.py) event, an HTTP_PROXY one sends the request
on to its URL (front_doors/http_proxy.py).

HTTP APIs answer their own failures as JSON: 404 {"message":"Not Found"} for no route, 500
{"message":"Internal Server Error"} for a missing permission, a function error or an answer it does not
take, 503 {"message":"Service Unavailable"} past the integration's timeout (30 s at most). A CORS
configuration answers preflight requests at the door and adds its headers to every answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from typing import Any, Protocol

from lamina.api.front_door import host_name
from lamina.api.messages import Request, Response
from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.front_doors import http_proxy, payload_v1, payload_v2
from lamina.front_doors.authorizer_cache import AuthorizerCache
from lamina.front_doors.http_api_authorizer import Guards, authorize
from lamina.front_doors.jwt_authorizer import JwksCache
from lamina.services.apigatewayv2.engine import HttpApiEngine
from lamina.services.apigatewayv2.provider import DEFAULT_STAGE
from lamina.services.apigatewayv2.records import HttpApi, function_of
from lamina.services.apigatewayv2.routing import DEFAULT_ROUTE, select_route

log = logging.getLogger(__name__)

MARKER = ".execute-api."
MAX_BODY = 10 << 20  # HTTP APIs take request bodies up to 10 MB


class FunctionCaller(Protocol):
    """What the door needs of Lambda (services/lambda_/service_invoker.py)."""

    def allowed(self, function_id: str, region: str, account: str, source_arn: str) -> bool: ...

    async def invoke(self, function_id: str, region: str, account: str, payload: bytes, request_id: str) -> Any: ...


def api_id_of(host: str) -> str | None:
    """The API id a host names: `<id>.execute-api.localhost` or `<id>.execute-api.<region>.localhost`."""
    head, sep, rest = host.partition(MARKER)
    if not sep or not head or "." in head:
        return None
    if rest != "localhost" and not (rest.endswith(".localhost") and rest.count(".") == 1):
        return None
    return head


def message(status: int, text: str) -> Response:
    return payload_v1.json_message(status, text)


class HttpApiDoor:
    def __init__(self, engine: HttpApiEngine, functions: FunctionCaller, clock: Clock) -> None:
        self._engine = engine
        self._functions = functions
        self._guards = Guards(clock, AuthorizerCache(clock), JwksCache(clock))

    def claims(self, request: Request) -> bool:
        api_id = api_id_of(host_name(request))
        return api_id is not None and self._engine.get(api_id) is not None

    def body_cap(self, request: Request) -> int:
        return MAX_BODY

    def too_large(self, request: Request) -> Response:
        return message(413, "Request Entity Too Large")

    async def serve(self, request: Request) -> Response:
        api = self._engine.get(api_id_of(host_name(request)) or "")
        if api is None:
            return message(404, "Not Found")
        cors = api.api.get("CorsConfiguration")
        if cors and _is_preflight(request):
            return _preflight(cors, request)
        response = await self._serve(api, request)
        if cors:
            _add_cors(cors, request, response)
        return response

    async def _serve(self, api: HttpApi, request: Request) -> Response:
        stage_name, path = _stage_and_path(api, request.path)
        stage = api.stages.get(stage_name) if stage_name is not None else None
        snapshot = api.snapshots.get(stage.get("DeploymentId") or "") if stage is not None else None
        if stage is None or snapshot is None:
            return message(404, "Not Found")
        match = select_route(snapshot["routes"], request.method, path)
        if match is None:
            return message(404, "Not Found")
        target = match.route.get("Target") or ""
        integration = snapshot["integrations"].get(target.partition("/")[2])
        kind = integration.get("IntegrationType") if integration is not None else None
        if integration is None or kind not in ("AWS_PROXY", "HTTP_PROXY"):
            log.info("HTTP API %s: route %s has no integration Lamina serves", api.api_id, match.route["RouteKey"])
            return message(500, "Internal Server Error")
        function_id = function_of(integration.get("IntegrationUri") or "")
        source_arn = _source_arn(api, str(stage["StageName"]), request.method, match.route["RouteKey"])
        request_id = str(uuid.uuid4())
        facts = payload_v1.ProxyFacts(
            account=api.account,
            api_id=api.api_id,
            stage=str(stage["StageName"]),
            domain_name=host_name(request),
            resource=match.route["RouteKey"],
            resource_id=match.route["RouteKey"],
            path=path,
            request_path=request.path,
            path_parameters=match.path_parameters,
            stage_variables=dict(stage.get("StageVariables") or {}),
            version="1.0",
        )
        headers = [(name, value) for name, values in _header_lists(request) for value in values]
        now = time.time()
        event = payload_v1.build_event(
            facts, request.method, headers, request.query_string, request.body, request_id, now
        )
        authorizer = api.authorizers.get(match.route.get("AuthorizerId") or "")
        v2_authorizer: dict[str, Any] | None = None
        if match.route.get("AuthorizationType") in ("CUSTOM", "JWT") and authorizer is not None:
            plain = payload_v2.Route(
                api.account,
                api.api_id,
                host_name(request),
                match.route["RouteKey"],
                str(stage["StageName"]),
                dict(match.path_parameters) or None,
                dict(stage.get("StageVariables") or {}) or None,
            )

            def event_v2() -> dict[str, Any]:
                return payload_v2.build_event(request, plain, request_id=request_id, epoch_ms=int(now * 1000))

            verdict = await authorize(
                self._functions,
                self._guards,
                api,
                authorizer,
                request,
                event,
                event_v2,
                source_arn,
                match.path_parameters,
                list(match.route.get("AuthorizationScopes") or []),
            )
            if verdict.refusal is not None:
                return verdict.refusal
            v2_authorizer = verdict.context
            facts = dataclasses.replace(facts, authorizer=verdict.context)
            if verdict.context is not None and "jwt" in verdict.context:  # payload 1.0 has the claims at the top
                facts = dataclasses.replace(facts, authorizer=dict(verdict.context["jwt"]))
            event = payload_v1.build_event(
                facts, request.method, headers, request.query_string, request.body, request_id, now
            )
        if kind == "HTTP_PROXY":
            return await _proxy(api, integration, request, match.path_parameters)
        if not self._functions.allowed(function_id, api.region, api.account, source_arn):
            log.info("HTTP API %s: %s may not be invoked for %s", api.api_id, function_id, source_arn)
            return message(500, "Internal Server Error")
        v2 = (integration.get("PayloadFormatVersion") or "2.0") == "2.0"
        if v2:
            route = payload_v2.Route(
                account_id=api.account,
                api_id=api.api_id,
                domain_name=host_name(request),
                route_key=match.route["RouteKey"],
                stage=str(stage["StageName"]),
                path_parameters=dict(match.path_parameters) or None,
                stage_variables=dict(stage.get("StageVariables") or {}) or None,
                authorizer=v2_authorizer,
            )
            event = payload_v2.build_event(request, route, request_id=request_id, epoch_ms=int(now * 1000))
        timeout = int(integration.get("TimeoutInMillis") or 30000) / 1000
        try:
            out = await asyncio.wait_for(
                self._functions.invoke(function_id, api.region, api.account, json.dumps(event).encode(), request_id),
                timeout,
            )
        except TimeoutError:
            return message(503, "Service Unavailable")
        except LaminaError as error:
            log.info("HTTP API %s: invoking %s failed: %s", api.api_id, function_id, error.message)
            return message(500, "Internal Server Error")
        if out.get("FunctionError"):
            return message(500, "Internal Server Error")
        if v2:
            response = payload_v2.to_response(out.get("Payload") or b"")
            failed = response.status == 502 and response.body == payload_v2.INTERNAL_ERROR
        else:
            response = payload_v1.build_response(out.get("Payload") or b"", request.headers.get("accept", ""), ())
            failed = response.status == 502 and response.body == payload_v1.internal_error().body
        if failed:
            return message(500, "Internal Server Error")  # HTTP APIs answer 500 where REST APIs answer 502
        return response


async def _proxy(
    api: HttpApi, integration: dict[str, Any], request: Request, path_parameters: dict[str, str]
) -> Response:
    """An HTTP_PROXY integration: the request sent on to the integration's URL, its answer passed back."""
    target = http_proxy.target_of(
        integration.get("IntegrationUri") or "", integration.get("IntegrationMethod") or "ANY", request, path_parameters
    )
    port = request.headers.get("host", "").rpartition(":")[2]
    headers = http_proxy.forwarded_headers(request, int(port) if port.isdigit() else 80)
    timeout = int(integration.get("TimeoutInMillis") or 30000) / 1000
    try:
        return await http_proxy.send(target, headers, request.body, timeout)
    except TimeoutError:
        return message(503, "Service Unavailable")
    except http_proxy.Unreachable as error:
        log.info("HTTP API %s: %s %s failed: %s", api.api_id, target.method, target.url, error)
        return message(500, "Internal Server Error")


def _header_lists(request: Request) -> list[tuple[str, list[str]]]:
    repeated = request.repeated or {}
    return [(name, repeated.get(name) or [value]) for name, value in request.headers.items()]


def _stage_and_path(api: HttpApi, path: str) -> tuple[str | None, str]:
    """The stage a path is for and the path after it: a named stage is the first segment, else `$default`."""
    first, _, rest = path.lstrip("/").partition("/")
    if first and first != DEFAULT_STAGE and first in api.stages:
        return first, "/" + rest
    if DEFAULT_STAGE in api.stages:
        return DEFAULT_STAGE, path or "/"
    return None, path


def _source_arn(api: HttpApi, stage: str, method: str, route_key: str) -> str:
    """`arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<route path>`, as AWS names the
    caller in the function's resource policy (`.../<stage>/$default` for the `$default` route)."""
    base = f"arn:aws:execute-api:{api.region}:{api.account}:{api.api_id}/{stage}"
    if route_key == DEFAULT_ROUTE:
        return f"{base}/$default"
    _, _, template = route_key.partition(" ")
    return f"{base}/{method}{template}"


# -- CORS ------------------------------------------------------------------------------------------------
def _is_preflight(request: Request) -> bool:
    return (
        request.method == "OPTIONS"
        and "origin" in request.headers
        and "access-control-request-method" in request.headers
    )


def _allowed_origin(cors: dict[str, Any], origin: str) -> str | None:
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def _preflight(cors: dict[str, Any], request: Request) -> Response:
    headers: list[tuple[str, str]] = []
    origin = _allowed_origin(cors, request.headers.get("origin", ""))
    wanted = request.headers.get("access-control-request-method", "").upper()
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if origin is not None and ("*" in methods or wanted in methods):
        headers.append(("access-control-allow-origin", origin))
        headers.append(("access-control-allow-methods", ",".join(methods)))
        if cors.get("AllowHeaders"):
            headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"]).lower()))
        if cors.get("AllowCredentials"):
            headers.append(("access-control-allow-credentials", "true"))
        if cors.get("MaxAge") is not None:
            headers.append(("access-control-max-age", str(cors["MaxAge"])))
    return Response(204, headers, b"")


def _add_cors(cors: dict[str, Any], request: Request, response: Response) -> None:
    origin = _allowed_origin(cors, request.headers.get("origin", ""))
    if origin is None:
        return
    response.headers.append(("access-control-allow-origin", origin))
    if cors.get("AllowCredentials"):
        response.headers.append(("access-control-allow-credentials", "true"))
    if cors.get("ExposeHeaders"):
        response.headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"]).lower()))
