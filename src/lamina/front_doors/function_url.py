"""The function URL front door: `http://<url-id>.lambda-url.<region>.localhost:<port>/...`, or the path form
`/_aws/lambda-url/<url-id>/...` for clients that cannot set Host.

A request finds its URL config by url id; AuthType NONE needs the function's policy to allow
`lambda:InvokeFunctionUrl` for `*` with `lambda:FunctionUrlAuthType` NONE, AuthType AWS_IAM a valid SigV4
signature (service `lambda`, Lamina's credentials). A configured CORS answers preflight OPTIONS itself and
puts its headers on every answer (over the function's own). The request becomes the payload 2.0 event
(front_doors/payload_v2.py) and one invocation; the answer maps back by the 2.0 rules. InvokeMode
RESPONSE_STREAM serves the body chunked as the function writes it. A URL id without a config (never made,
or deleted) is answered as AWS does: 403 {"Message":null}, x-amzn-ErrorType AccessDeniedException.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from lamina.api.front_door import host_name
from lamina.api.gateway import new_request_id
from lamina.api.messages import Request, Response
from lamina.clock import Clock
from lamina.errors import LaminaError, Throttled
from lamina.front_doors import payload_v2
from lamina.front_doors.request_signature import SignatureCheck
from lamina.functions.url_configs import FunctionUrls, UrlConfig
from lamina.types import CallContext

log = logging.getLogger(__name__)

MAX_BODY = 6 * 1024 * 1024  # request and buffered response, as AWS limits function URLs
PATH_PREFIX = "/_aws/lambda-url/"
HOST_MARK = ".lambda-url."
FORBIDDEN = (
    b'{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: '
    b'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}'
)
TOO_LARGE = b'{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}'
_JSON = [("Content-Type", "application/json")]


class FunctionCaller(Protocol):
    def url_allowed(self, function_arn: str, qualifier: str | None, auth_type: str) -> bool: ...

    async def invoke(self, function_id: str, region: str, account: str, payload: bytes, request_id: str) -> Any: ...


class Streamer(Protocol):
    async def open(self, ctx: CallContext, params: dict[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request the door lets through to its function."""

    config: UrlConfig
    request: Request  # as the function sees it (the path form's prefix taken off)
    authorizer: dict[str, Any] | None
    origin: str | None


def no_such_url() -> Response:
    """AWS's answer for a URL id that has no config (never made or deleted): 403, a null Message."""
    return Response(403, [*_JSON, ("x-amzn-ErrorType", "AccessDeniedException")], b'{"Message":null}')


def _answer(status: int, body: bytes) -> Response:
    return Response(status, list(_JSON), body)


def _buffered(result: bytes, function_error: str | None, request_id: str) -> Response:
    if function_error or len(result) > MAX_BODY:
        response = payload_v2.error_response()
    else:
        response = payload_v2.to_response(result)
    response.headers.append(("X-Amzn-RequestId", request_id))
    return response


class FunctionUrlDoor:
    def __init__(
        self,
        urls: FunctionUrls,
        functions: FunctionCaller,
        streaming: Streamer,
        signatures: SignatureCheck,
        clock: Clock,
        port: Callable[[], int],
    ) -> None:
        self._urls = urls
        self._functions = functions
        self._streaming = streaming
        self._signatures = signatures
        self._clock = clock
        self._port = port

    def claims(self, request: Request) -> bool:
        host = host_name(request)
        return (HOST_MARK in host and host.endswith(".localhost")) or request.path.startswith(PATH_PREFIX)

    def body_cap(self, request: Request) -> int:
        return MAX_BODY

    def too_large(self, request: Request) -> Response:
        return _answer(413, TOO_LARGE)

    @staticmethod
    def _locate(request: Request) -> tuple[str, Request]:
        """The url id and the request as the function sees it (the path form's prefix taken off)."""
        if request.path.startswith(PATH_PREFIX):
            url_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
            return url_id, replace(request, path="/" + rest)
        return host_name(request).split(".", 1)[0], request

    def admit(self, request: Request) -> Admitted | Response:
        """The URL, the request as the function sees it and the caller's authorizer block; or the door's
        own answer (unknown id, CORS preflight, refused caller)."""
        url_id, inner = self._locate(request)
        config = self._urls.by_id(url_id)
        if config is None:
            log.info("function URL %s: no URL config has this id (never made, or deleted)", url_id)
            return no_such_url()
        origin = request.headers.get("origin")
        if config.cors is not None and request.method == "OPTIONS" and origin is not None:
            return self._preflight(config.cors, request, origin)
        authorizer, denied = self._authorize(config, request)
        if denied is not None:
            return self._with_cors(denied, config.cors or {}, origin)
        return Admitted(config, inner, authorizer, origin)

    async def serve(self, request: Request) -> Response:
        admitted = self.admit(request)
        if isinstance(admitted, Response):
            return admitted
        response = await self._invoke(admitted)
        return self._with_cors(response, admitted.config.cors or {}, admitted.origin)

    def finish(self, admitted: Admitted, result: bytes, function_error: str | None, request_id: str) -> Response:
        """The HTTP answer, CORS headers included, for a buffered invocation's outcome."""
        response = _buffered(result, function_error, request_id)
        return self._with_cors(response, admitted.config.cors or {}, admitted.origin)

    # -- authorization -----------------------------------------------------------------------------
    def _authorize(self, config: UrlConfig, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        if config.auth_type == "AWS_IAM":
            caller = self._signatures.verify(request)
            if caller is None:
                return None, _answer(403, b'{"Message":"Forbidden"}')
            if isinstance(caller, str):
                return None, _answer(403, json.dumps({"Message": caller}).encode())
            return {"iam": caller}, None
        base = config.function_arn if config.qualifier is None else config.function_arn.rsplit(":", 1)[0]
        if not self._functions.url_allowed(base, config.qualifier, "NONE"):
            return None, _answer(403, FORBIDDEN)
        return None, None

    # -- CORS ----------------------------------------------------------------------------------------
    @staticmethod
    def _allowed_origin(cors: dict[str, Any], origin: str | None) -> str | None:
        origins = cors.get("AllowOrigins") or []
        if origin is None:
            return None
        if "*" in origins:
            return "*" if not cors.get("AllowCredentials") else origin
        return origin if origin in origins else None

    def _preflight(self, cors: dict[str, Any], request: Request, origin: str) -> Response:
        headers: list[tuple[str, str]] = []
        allowed = self._allowed_origin(cors, origin)
        method = request.headers.get("access-control-request-method", "")
        methods = [m.upper() for m in cors.get("AllowMethods") or []]
        if allowed is not None and method and ("*" in methods or method.upper() in methods):
            headers.append(("Access-Control-Allow-Origin", allowed))
            headers.append(("Access-Control-Allow-Methods", ",".join(cors.get("AllowMethods") or [])))
            if cors.get("AllowHeaders"):
                headers.append(("Access-Control-Allow-Headers", ",".join(cors["AllowHeaders"])))
            if cors.get("AllowCredentials"):
                headers.append(("Access-Control-Allow-Credentials", "true"))
            if cors.get("MaxAge"):
                headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
            if cors.get("ExposeHeaders"):
                headers.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
            headers.append(("Vary", "Origin"))
        return Response(200, headers, b"")

    def _with_cors(self, response: Response, cors: dict[str, Any], origin: str | None) -> Response:
        allowed = self._allowed_origin(cors, origin)
        if allowed is None:
            return response
        names = {"access-control-allow-origin", "access-control-expose-headers", "access-control-allow-credentials"}
        headers = [(n, v) for n, v in response.headers if n.lower() not in names]
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.get("ExposeHeaders"):
            headers.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
        if cors.get("AllowCredentials"):
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers.append(("Vary", "Origin"))
        response.headers = headers
        return response

    # -- invocation ----------------------------------------------------------------------------------
    def event(self, admitted: Admitted, request_id: str) -> bytes:
        """The payload 2.0 event, as JSON, for an admitted request."""
        config = admitted.config
        route = payload_v2.Route(
            account_id=config.account, api_id=config.url_id, domain_name=config.host(), authorizer=admitted.authorizer
        )
        epoch_ms = int(self._clock.time() * 1000)
        event = payload_v2.build_event(admitted.request, route, request_id=request_id, epoch_ms=epoch_ms)
        return json.dumps(event).encode()

    async def _invoke(self, admitted: Admitted) -> Response:
        config = admitted.config
        request_id = new_request_id()
        payload = self.event(admitted, request_id)
        if config.mode == "RESPONSE_STREAM":
            return await self._stream(config, payload, request_id)
        try:
            out = await self._functions.invoke(config.function_arn, config.region, config.account, payload, request_id)
        except Throttled:
            return _answer(429, b'{"Message":"Rate Exceeded."}')
        except LaminaError as error:
            log.info("function URL %s: invoking %s failed: %s", config.url_id, config.function_arn, error.message)
            return payload_v2.error_response()
        return _buffered(out.get("Payload") or b"", out.get("FunctionError"), request_id)

    async def _stream(self, config: UrlConfig, payload: bytes, request_id: str) -> Response:
        ctx = CallContext(config.region, config.account, request_id, "")
        try:
            streamed = await self._streaming.open(ctx, {"FunctionName": config.function_arn, "Payload": payload})
        except Throttled:
            return _answer(429, b'{"Message":"Rate Exceeded."}')
        except LaminaError:
            return payload_v2.error_response()
        if not streamed.streamed:  # a buffered answer: the 2.0 rules, as for BUFFERED
            chunks = [chunk async for chunk in streamed.body()]
            if streamed.outcome.get("FunctionError"):
                return payload_v2.error_response()
            return payload_v2.to_response(b"".join(chunks))
        prelude = streamed.prelude or {}
        headers = [(str(n), str(v)) for n, v in (prelude.get("headers") or {}).items()]
        headers.extend(("Set-Cookie", str(c)) for c in prelude.get("cookies") or [])
        if not any(n.lower() == "content-type" for n, _ in headers):
            headers.append(("Content-Type", streamed.content_type or "application/octet-stream"))
        headers.append(("X-Amzn-RequestId", request_id))

        async def body() -> AsyncIterator[bytes]:
            async for chunk in streamed.body():
                if chunk:
                    yield chunk

        return Response(int(prelude.get("statusCode") or 200), headers, b"", stream=body())
