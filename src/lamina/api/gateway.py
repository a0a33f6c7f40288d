"""The front door: tells AWS services apart on one port, routes to an operation, and turns the
provider's result or error into a response.

Requests are told apart the way AWS's own front ends do: the service in the SigV4 credential scope
(`Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, …`), then
`X-Amz-Target` (json protocol), `Action` (query protocol), then the path. The HTTP layer only
translates; providers never see HTTP.
"""

from __future__ import annotations

import json
import logging
import random
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from lamina.api.catalog import RouteTable, error_shapes, load_service_model
from lamina.api.faults import service_wire_error, wire_error
from lamina.api.front_door import FrontDoor, host_name
from lamina.api.messages import Request, Response
from lamina.api.protocols.json_protocol import JsonProtocol
from lamina.api.protocols.query_protocol import QueryProtocol
from lamina.api.protocols.rest_json import RestJsonProtocol, error_response
from lamina.api.protocols.rest_xml import RestXmlProtocol, s3_request_ids, virtual_bucket
from lamina.api.protocols.rest_xml import error_response as xml_error_response
from lamina.api.protocols.rpc_v2_cbor import RpcV2CborProtocol
from lamina.api.validation import Validator
from lamina.auth.authorizer import ANONYMOUS, Authorizer, Denied
from lamina.auth.sigv4 import AuthFailure, Failure, Secret, Verifier
from lamina.auth.wire import QUERY_MISSING, S3_MISSING, S3_UNKNOWN_KEY, json_code, query_code, s3_code
from lamina.errors import InvalidRequestContent, LaminaError, RequestTooLarge, UnknownOperation
from lamina.store.disk_space import DiskSpace
from lamina.types import CallContext

log = logging.getLogger(__name__)

_UNKNOWN_HOST = (
    "Nothing answers at {host}: function URLs are <url-id>.lambda-url.<region>.localhost, API stages "
    "<api-id>.execute-api.localhost and load balancers <DNSName>; check the id and that it was not deleted"
)

_SCOPE = re.compile(r"Credential=[^/]*/\d{8}/([^/]+)/([^/]+)/")
_KEY = re.compile(r"Credential=([^/,\s]*)/")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")

Internal = Callable[[Request], Awaitable[Response] | Response | None]
_UNSET = object()


# Where AWS's own messages name an operation differently from botocore's model.
_AWS_NAMES = {"Invoke": "InvokeFunction"}


def new_request_id() -> str:
    """A random version-4 UUID string, as AWS request ids are. Not for secrets: getrandbits is several
    times cheaper than uuid4's os.urandom on the per-request path."""
    h = f"{random.getrandbits(128) & _UUID4_MASK | _UUID4_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID4_MASK = ~(0xF000 << 64) & ~(0xC000 << 48) & ((1 << 128) - 1)
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


def credential_scope(headers: dict[str, str]) -> tuple[str, str] | None:
    """(region, service) of a SigV4-signed request's credential scope; None when it is not signed."""
    auth = headers.get("authorization")
    if auth:
        m = _SCOPE.search(auth)
        if m:
            return m.group(1), m.group(2)
    return None


def query_scope(request: Request) -> tuple[str, str] | None:
    """(region, service) of a presigned URL's X-Amz-Credential; None when the query has none."""
    if "X-Amz-Credential" not in request.query_string:
        return None
    scope = request.query.get("X-Amz-Credential", [""])[0].split("/")
    return (scope[2], scope[3]) if len(scope) == 5 else None


def _sigv2_presigned(query_string: str) -> bool:
    return "AWSAccessKeyId=" in query_string and "Signature=" in query_string and "Expires=" in query_string


def access_key_id(headers: dict[str, str]) -> str:
    """The access key id a SigV4-signed request names ("" when it is not signed)."""
    m = _KEY.search(headers.get("authorization", ""))
    return m.group(1) if m else ""


def snake(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


@dataclass
class ServiceBinding:
    """One AWS service served on the port: its model, protocol, routes and providers.

    A service's operations may be spread over several provider objects (one per resource family, e.g.
    functions, layers, policies); the first that has a method named for the operation serves it."""

    name: str
    model: ServiceModel
    protocol: RestJsonProtocol | RestXmlProtocol | JsonProtocol | QueryProtocol | RpcV2CborProtocol
    routes: RouteTable | None  # REST protocols route by method and path; json by X-Amz-Target
    validator: Validator
    providers: tuple[Any, ...]
    errors: dict[str, Shape]
    body_limits: dict[str, int]  # operation → max request bytes (AWS's 413 for that operation)
    _handlers: dict[str, Any] = field(default_factory=dict)  # operation name → bound provider method
    # The same service on the query protocol, for requests without X-Amz-Target (SQS's older SDKs)
    query_twin: ServiceBinding | None = None
    # The same service on Smithy RPC v2 CBOR, for requests with `smithy-protocol: rpc-v2-cbor` (CloudWatch: the
    # model lists it first; botocore 1.44 itself prefers json, other SDKs send CBOR)
    cbor_twin: ServiceBinding | None = None

    @property
    def signing_name(self) -> str:
        """The service a SigV4 scope names for this service (elbv2 signs as elasticloadbalancing)."""
        return str(self.model.metadata.get("signingName") or self.model.endpoint_prefix)

    # A check of the request before it is parsed (S3: a presigned URL's expiry); raises a LaminaError.
    admit: Callable[[Request], None] | None = None
    # A last touch on every answer (S3: the Access-Control-* headers a request with Origin gets from the bucket's CORS).
    decorate: Callable[[Request, Response], None] | None = None

    def route(self, request: Request) -> tuple[OperationModel, dict[str, str]] | None:
        if isinstance(self.protocol, RestXmlProtocol):  # S3 tells operations apart by query and headers too
            return self.protocol.route(request)
        if self.routes is not None:
            return self.routes.find(request.method, request.path, request.query)
        assert isinstance(self.protocol, JsonProtocol | QueryProtocol | RpcV2CborProtocol)
        op = self.protocol.find(request)
        return None if op is None else (op, {})

    def handler(self, op: OperationModel) -> Callable[..., Any] | None:
        found = self._handlers.get(op.name, _UNSET)
        if found is _UNSET:
            found = None
            name = snake(op.name)
            for provider in self.providers:
                found = getattr(provider, name, None)
                if found is not None:
                    break
            self._handlers[op.name] = found
        return found  # type: ignore[no-any-return]


def bind_service(
    name: str,
    provider: Any,
    *more_providers: Any,
    skip_enums: frozenset[str] = frozenset(),
    service_checked: frozenset[str] = frozenset(),
    body_limits: dict[str, int] | None = None,
    query: QueryProtocol | None = None,
    cbor: bool = False,
) -> ServiceBinding:
    model = query.model if query is not None else load_service_model(name)
    protocols = model.metadata.get("protocols") or [model.protocol]
    protocol: RestJsonProtocol | RestXmlProtocol | JsonProtocol | QueryProtocol | RpcV2CborProtocol
    routes: RouteTable | None
    if cbor:
        protocol, routes = RpcV2CborProtocol(model), None
    elif "rest-xml" in protocols:
        protocol, routes = RestXmlProtocol(model), None
    elif "rest-json" in protocols:
        protocol, routes = RestJsonProtocol(model), RouteTable(model)
    elif "json" in protocols:
        protocol, routes = JsonProtocol(model), None
    elif "query" in protocols:
        protocol, routes = query or QueryProtocol(model), None
    else:
        raise ValueError(f"{name}: none of the protocols {protocols} is served by Lamina yet")
    return ServiceBinding(
        name=name,
        model=model,
        protocol=protocol,
        routes=routes,
        validator=Validator(skip_enums, service_checked),
        providers=(provider, *more_providers),
        errors=error_shapes(model),
        body_limits=body_limits or {},
    )


def error_answer(
    service: ServiceBinding | None, error: LaminaError, request_id: str = "", operation: str = ""
) -> Response:
    """`error` in the shape `service`'s protocol gives its errors (rest-json when there is no service)."""
    if service is not None and isinstance(service.protocol, RestXmlProtocol):
        code, status, _ = service_wire_error(service.name, error)
        response = xml_error_response(code, status, error.message, dict(error.fields), request_id)
        response.headers.extend(getattr(error, "headers", ()))
        return response
    if service is not None and isinstance(service.protocol, QueryProtocol):
        code, status, query_code = service_wire_error(service.name, error)
        return service.protocol.error_response(query_code or code, status, error.message, request_id, operation)
    if service is not None and isinstance(service.protocol, JsonProtocol | RpcV2CborProtocol):
        code, status, query_code = service_wire_error(service.name, error)
        return service.protocol.error_response(code, status, error.message, query_code, dict(error.fields))
    code, status = wire_error(error)
    shape = service.errors.get(code) if service is not None else None
    return error_response(code, status, error.message, dict(error.fields), shape)


def auth_answer(service: ServiceBinding, failure: AuthFailure, request_id: str) -> Response:
    """A refused signature in the shape `service`'s protocol gives it (auth/wire.py)."""
    if isinstance(service.protocol, QueryProtocol):
        code, status = query_code(failure.kind)
        message = QUERY_MISSING if failure.kind is Failure.MISSING else failure.message
        return service.protocol.error_response(code, status, message, request_id)
    if isinstance(service.protocol, RestXmlProtocol):
        code, status = s3_code(failure.kind)
        message = {"AccessDenied": S3_MISSING, "InvalidAccessKeyId": S3_UNKNOWN_KEY}.get(code, failure.message)
        return xml_error_response(code, status, message, {}, request_id)
    code, legacy, status = json_code(failure.kind)
    if isinstance(service.protocol, JsonProtocol):
        return service.protocol.error_response(code, status, failure.message, legacy)
    return error_response(code, status, failure.message, {}, service.errors.get(code))


_ANONYMOUS = Secret("", ANONYMOUS)
# Each service's code for an identity-policy refusal, where it is not AccessDeniedException/AccessDenied (403).
_DENIED = {"sns": ("AuthorizationError", 403), "dynamodb": ("AccessDeniedException", 400)}


def denied_answer(service: ServiceBinding, message: str, request_id: str) -> Response:
    """A request the caller's policies do not allow, as `service` refuses it."""
    if isinstance(service.protocol, QueryProtocol):
        code, status = _DENIED.get(service.name, ("AccessDenied", 403))
        return service.protocol.error_response(code, status, message, request_id)
    if isinstance(service.protocol, RestXmlProtocol):  # S3: its XML <Error>, code AccessDenied
        return xml_error_response("AccessDenied", 403, message, {}, request_id)
    code, status = _DENIED.get(service.name, ("AccessDeniedException", 403))
    if isinstance(service.protocol, JsonProtocol):
        return service.protocol.error_response(code, status, message, "AccessDenied")
    return error_response(code, status, message, {}, service.errors.get(code))


class Gateway:
    def __init__(
        self,
        services: list[ServiceBinding],
        default_region: str,
        account_id: str,
        base_url: str,
        internal: Internal | None = None,
        space: DiskSpace | None = None,
        auth: Verifier | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._authorizer = authorizer  # with auth: the caller's policies decide each operation
        self._space = space
        self._auth = auth  # --auth sigv4: every API request's signature is verified before it is routed
        # SigV4 scopes name the signing name (elbv2 signs as elasticloadbalancing); several services may
        # share one (apigateway and apigatewayv2 both sign as apigateway): routes then tell them apart.
        self._services: dict[str, list[ServiceBinding]] = {s.name: [s] for s in services}
        for s in services:
            signing = s.model.metadata.get("signingName") or s.model.endpoint_prefix
            if signing != s.name:
                self._services.setdefault(signing, []).append(s)
        # S3's routes (`/{Bucket}`) would take any path: it is found by scope, query auth or Host only.
        self._rest = [s for s in services if s.routes is not None]
        self._s3 = next((s for s in services if isinstance(s.protocol, RestXmlProtocol)), None)
        self._json = [s for s in services if isinstance(s.protocol, JsonProtocol)]
        self._cbor = [s.cbor_twin for s in services if s.cbor_twin is not None]
        self._query = [s for s in services if isinstance(s.protocol, QueryProtocol)]
        self._query += [s.query_twin for s in services if s.query_twin is not None]
        self._default_region = default_region
        self._account_id = account_id
        self._base_url = base_url
        self._internal = internal
        self._doors: list[FrontDoor] = []

    def add_door(self, door: FrontDoor) -> None:
        """Serve the requests `door` claims (function URLs, API stages, ...) before any AWS API."""
        self._doors.append(door)

    def other_api_path(self, request: Request) -> bool:
        """Whether a REST API other than S3 has an operation at `request`'s path, by any method (a browser's
        preflight to the Lambda API is not a bucket's)."""
        for service in self._rest:
            routes = service.routes
            assert routes is not None
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
                if routes.find(method, request.path, request.query) is not None:
                    return True
        return False

    def door_claims(self, request: Request) -> bool:
        """Whether a front door serves `request` (then no AWS API shortcut may take it)."""
        return any(door.claims(request) for door in self._doors)

    # -- the request path -----------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        request.request_id = request_id
        try:
            response = await self._dispatch(request)
        except Exception:  # never let a bug become a dropped connection or an HTML 500
            log.exception("internal error handling %s %s", request.method, request.path)
            response = error_response("ServiceException", 500, "Internal error", {}, None)
        if not any(name == "x-amz-request-id" for name, _ in response.headers):  # S3 names its own (as AWS's)
            response.headers.append(("x-amzn-RequestId", request_id))
        return response

    @staticmethod
    def _unknown(request: Request) -> UnknownOperation:
        host = host_name(request)
        if host.endswith(".localhost"):  # meant for a front door, but none has that name
            return UnknownOperation(_UNKNOWN_HOST.format(host=host))
        return UnknownOperation("Unknown operation: " + request.method)

    async def _dispatch(self, request: Request) -> Response:
        for door in self._doors:
            if door.claims(request):
                return await door.serve(request)
        if self._internal is not None:
            internal = self._internal(request)
            if internal is not None:
                return await internal if not isinstance(internal, Response) else internal
        service, region, found = self._identify(request)
        if service is None:
            return self._error(None, self._unknown(request))
        caller: Secret | None = None
        if self._auth is not None:
            try:
                caller = self.caller(request, service)
            except AuthFailure as failure:
                if (
                    failure.kind is not Failure.MISSING
                    or service is not self._s3
                    or self._authorizer is None
                    or "authorization" in request.headers  # a signature Lamina cannot read is not anonymity
                ):
                    return auth_answer(service, failure, request.request_id)
                caller = _ANONYMOUS  # S3 serves unsigned requests to what grants everyone (a policy, an ACL)
        response = await self._operate(request, service, region, found, caller)
        if isinstance(service.protocol, RestXmlProtocol):  # S3 names every answer, errors too, with these two
            amz_id, host_id = s3_request_ids(request.request_id)
            response.headers += [("x-amz-request-id", amz_id), ("x-amz-id-2", host_id)]
        if service.decorate is not None and "origin" in request.headers:
            service.decorate(request, response)
        return response

    async def _operate(
        self,
        request: Request,
        service: ServiceBinding,
        region: str,
        found: tuple[OperationModel, dict[str, str]] | None,
        caller: Secret | None,
    ) -> Response:
        if found is None:
            found = service.route(request)
        if found is None:
            return self._error(service, self._unknown(request), request.request_id)
        op, uri_params = found
        try:
            limit = service.body_limits.get(op.name)
            if limit is not None and len(request.body) > limit:
                name = _AWS_NAMES.get(op.name, op.name)
                raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the {name} operation")
            if op.request_compression and request.headers.get("content-encoding", "").lower() == "gzip":
                request.body = _gunzip(request.body, MAX_BODY)  # botocore gzips e.g. PutMetricData over 10 KB
            if service.admit is not None:
                service.admit(request)
            params = service.protocol.parse(op, request, uri_params)
            if op.input_shape is not None:
                service.validator.validate(op.input_shape, params)
            if caller is not None and self._authorizer is not None:
                try:
                    self._authorizer.check(
                        caller.principal,
                        service.signing_name,
                        op.name,
                        params,
                        region,
                        request.peer,
                        caller.session_policies,
                        caller.identity,
                    )
                except Denied as denied:
                    return denied_answer(service, denied.message, request.request_id)
            method = service.handler(op)
            if method is None:
                return self._not_implemented(service, op)
            if self._space is not None and self._space.full:
                self._space.check(op.name)  # a full disk: only what frees or reads space runs
            ctx = CallContext(
                region,
                self._account_id,
                request.request_id,
                self._base_url_for(request),
                access_key_id(request.headers),
                request.headers.get("x-amzn-trace-id", ""),
            )
            result = method(ctx, params)
            if hasattr(result, "__await__"):
                result = await result
            if isinstance(service.protocol, QueryProtocol):
                return service.protocol.serialize(op, result, request.request_id)
            return service.protocol.serialize(op, result)
        except LaminaError as error:
            if request.body_stream is not None:  # what the client still sends is read and dropped
                await _drain(request.body_stream)
            return self._error(service, error, request.request_id, op.name)
        except Exception as exc:
            full = self._space.failed(exc) if self._space is not None else None
            if full is None:
                raise
            log.error("%s failed: the data directory is full (%s)", op.name, exc)
            return self._error(service, full, request.request_id, op.name)

    def caller(self, request: Request, service: ServiceBinding) -> Secret:
        """Who signed `request` (raises AuthFailure); only with --auth sigv4."""
        assert self._auth is not None
        return self._auth.verify(request, service.signing_name)

    def _identify(
        self, request: Request
    ) -> tuple[ServiceBinding | None, str, tuple[OperationModel, dict[str, str]] | None]:
        """The service (and region) a request is for, and its route when finding the service found it."""
        scope = credential_scope(request.headers) or query_scope(request)
        if scope is None and self._s3 is not None and _sigv2_presigned(request.query_string):
            scope = (self._default_region, "s3")  # boto3's default presigned S3 URL (SigV2 query auth)
        if scope is None and self._s3 is not None and virtual_bucket(request.headers.get("host", "")) is not None:
            scope = (self._default_region, "s3")
        if scope is not None:
            region, name = scope
            candidates = self._services.get(name)
            if not candidates:
                return None, region, None
            bound = candidates[0]
            if len(candidates) > 1:
                for candidate in candidates:
                    found = candidate.route(request)
                    if found is not None:
                        return candidate, region, found
            if bound.cbor_twin is not None and RpcV2CborProtocol.speaks(request):
                bound = bound.cbor_twin
            elif bound.query_twin is not None and "x-amz-target" not in request.headers:
                bound = bound.query_twin
            return bound, region, None
        if RpcV2CborProtocol.speaks(request):
            for service in self._cbor:
                protocol = service.protocol
                assert isinstance(protocol, RpcV2CborProtocol)
                if protocol.owns(request):
                    op = protocol.find(request)
                    return service, self._default_region, None if op is None else (op, {})
        if "x-amz-target" in request.headers:
            for service in self._json:
                protocol = service.protocol
                assert isinstance(protocol, JsonProtocol)
                if protocol.owns(request):
                    op = protocol.find(request)
                    return service, self._default_region, None if op is None else (op, {})
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if self._query and (form or "Action" in request.query):  # e.g. SNS's UnsubscribeURL, a plain GET
            for service in self._query:
                op = service.route(request)
                if op is not None:
                    return service, self._default_region, op
            for service in self._query:  # an unknown Action of the API its Version names is that API's error
                assert isinstance(service.protocol, QueryProtocol)
                if service.protocol.speaks(request):
                    return service, self._default_region, None
        for service in self._rest:
            found = service.route(request)
            if found:
                return service, self._default_region, found
        if self._auth is not None and self._s3 is not None:  # an unsigned path-style request: S3's anonymous caller
            found = self._s3.route(request)
            if found is not None:
                return self._s3, self._default_region, found
        return (self._rest[0] if self._rest else None), self._default_region, None

    def _base_url_for(self, request: Request) -> str:
        host = request.headers.get("host")
        return f"http://{host}" if host else self._base_url

    # -- errors ---------------------------------------------------------------------------------
    def _error(
        self, service: ServiceBinding | None, error: LaminaError, request_id: str = "", operation: str = ""
    ) -> Response:
        return error_answer(service, error, request_id, operation)

    def _not_implemented(self, service: ServiceBinding, op: OperationModel) -> Response:
        message = f"The {op.name} operation of {service.model.service_name} is not supported by Lamina yet."
        if isinstance(service.protocol, JsonProtocol | RpcV2CborProtocol):
            return service.protocol.error_response("UnsupportedOperation", 501, message, "UnsupportedOperation")
        if isinstance(service.protocol, QueryProtocol):
            return service.protocol.error_response("NotImplemented", 501, message, "")
        return Response(
            501,
            [("x-amzn-ErrorType", "NotImplemented"), ("Content-Type", "application/json")],
            json.dumps({"message": message}).encode(),
        )

    def body_cap(self, request: Request) -> int:
        """The most body bytes the request's operation takes, from its headers alone (before its body is
        read): the server refuses a larger Content-Length, or stops a chunked body there."""
        return self._cap(request)[2]

    def _cap(self, request: Request) -> tuple[ServiceBinding | None, str, int]:
        for door in self._doors:
            if door.claims(request):
                return None, "request", door.body_cap(request)
        service, _, found = self._identify(request)
        if service is None:
            return None, "request", MAX_BODY
        if service.routes is None and not isinstance(service.protocol, RestXmlProtocol):
            # the query and JSON protocols name the operation in the body
            return service, "request", _SERVICE_CAPS.get(service.name, MAX_BODY)
        found = found or service.route(request)
        if found is None:
            return service, "request", MAX_BODY
        name = found[0].name
        return service, _AWS_NAMES.get(name, name), service.body_limits.get(name, MAX_BODY)

    def stream_cap(self, request: Request) -> int | None:
        """The cap of a request whose operation takes its body as a stream (S3's PutObject and UploadPart: the
        rest-xml operations with a body limit of their own; a door that streams, S3's POST uploads), from its
        headers alone; None for any other."""
        for door in self._doors:
            if door.claims(request):
                streams = getattr(door, "stream_cap", None)
                return None if streams is None else int(streams(request))
        service, _, found = self._identify(request)
        if service is None or not isinstance(service.protocol, RestXmlProtocol) or self.door_claims(request):
            return None
        found = found or service.route(request)
        if found is None:
            return None
        return service.body_limits.get(found[0].name)

    def too_large(self, request: Request) -> Response:
        """The body exceeded its operation's cap before it was read whole."""
        request.request_id = new_request_id()
        for door in self._doors:
            answer = getattr(door, "too_large", None)  # a door may answer its own way (ALB: 502)
            if answer is not None and door.claims(request):
                response: Response = answer(request)
                return response
        service, op_name, limit = self._cap(request)
        error = RequestTooLarge(f"Request must be smaller than {limit} bytes for the {op_name} operation")
        rest = service is None or service.routes is not None
        response = self._error(None if rest else service, error, request.request_id)
        response.headers.append(("x-amzn-RequestId", request.request_id))
        return response

    def bad_request(self) -> Response:
        response = error_response("InvalidRequestContentException", 400, "Malformed HTTP request", {}, None)
        response.headers.append(("x-amzn-RequestId", new_request_id()))
        return response


def _gunzip(body: bytes, limit: int) -> bytes:
    """A gzip-encoded request body (the model's `requestcompression`), refused past `limit` bytes."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(body, limit + 1)
    except zlib.error:
        raise InvalidRequestContent("The request body is not valid gzip.") from None
    if len(out) > limit or inflate.unconsumed_tail:
        raise RequestTooLarge(f"Request must be smaller than {limit} bytes once decompressed")
    return out


async def _drain(stream: Any) -> None:
    try:
        async for _ in stream:
            pass
    except Exception:
        pass


# AWS rejects a CreateFunction/UpdateFunctionCode request body above this many bytes.
MAX_BODY = 70167211
# Per service on the query/JSON protocols, the largest body any of its operations takes, with room for
# encoding: a 1 MiB SQS message (or batch) is up to 3 MiB as JSON \\u escapes or a percent-encoded form;
# SNS takes 256 KB messages and batches.
_SERVICE_CAPS = {"sqs": 4 << 20, "sns": 1 << 20}
