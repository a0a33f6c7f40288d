"""CORS on S3's wire: a preflight `OPTIONS` to a bucket or object URL (path or virtual-host style, never signed) is
answered from the bucket's rules (cors.py), and an actual request carrying `Origin` gets the matching rule's
Access-Control-* headers (the gateway calls `decorate` on every S3 answer)."""

from __future__ import annotations

import re
from collections.abc import Callable

from lamina.api.front_door import host_name
from lamina.api.messages import Request, Response
from lamina.api.protocols.rest_xml import error_response, s3_request_ids, virtual_bucket
from lamina.services.s3 import cors
from lamina.services.s3.engine import S3Engine, valid_bucket_name
from lamina.services.s3.faults import S3Error

_PATH_BUCKET = re.compile(r"^/([^/?]+)")


def bucket_of(request: Request) -> str | None:
    """The bucket a request's URL names, path or virtual-host style; None for another door's host."""
    named = virtual_bucket(request.headers.get("host", ""))
    if named is not None:
        return named
    if host_name(request).endswith(".localhost"):
        return None
    m = _PATH_BUCKET.match(request.path)
    return m.group(1) if m and valid_bucket_name(m.group(1)) else None


class S3CorsDoor:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine
        # Whether another REST API (Lambda's, API Gateway's...) owns a path-style request's path: set by the app.
        self.other_api: Callable[[Request], bool] | None = None

    def claims(self, request: Request) -> bool:
        # Only a browser's preflight (it always names its Origin): any other OPTIONS goes on to the APIs as before.
        if request.method != "OPTIONS" or "origin" not in request.headers or bucket_of(request) is None:
            return False
        path_style = virtual_bucket(request.headers.get("host", "")) is None
        return not (path_style and self.other_api is not None and self.other_api(request))

    def body_cap(self, request: Request) -> int:
        return 64 * 1024

    async def serve(self, request: Request) -> Response:
        try:
            response = Response(200, self._preflight(request))
        except S3Error as error:
            response = error_response(error.code, error.status, error.message, error.fields, request.request_id)
        amz_id, host_id = s3_request_ids(request.request_id)
        response.headers += [("x-amz-request-id", amz_id), ("x-amz-id-2", host_id)]
        return response

    def _preflight(self, request: Request) -> list[tuple[str, str]]:
        origin = request.headers.get("origin")
        if not origin:
            raise S3Error("BadRequest", "Insufficient information. Origin request header needed.", 400)
        method = request.headers.get("access-control-request-method")
        if not method:
            raise S3Error("BadRequest", "Invalid Access-Control-Request-Method: null", 400)
        name = bucket_of(request) or ""
        try:
            rules = self._engine.bucket(name).get("cors")
        except S3Error:
            raise S3Error("AccessForbidden", "CORSResponse: Bucket not found", 403, Method=method,
                          ResourceType="BUCKET") from None  # fmt: skip
        if not rules:
            raise S3Error("AccessForbidden", cors.NOT_ENABLED, 403, Method=method, ResourceType="BUCKET")
        headers = cors.requested_headers(request.headers.get("access-control-request-headers", ""))
        rule = cors.matching_rule(rules, origin, method, headers)
        if rule is None:
            kind = "OBJECT" if _object_url(request) else "BUCKET"
            raise S3Error("AccessForbidden", cors.NOT_ALLOWED, 403, Method=method, ResourceType=kind)
        return cors.answer_headers(rule, origin, headers)

    def decorate(self, request: Request, response: Response) -> None:
        """An actual (not preflight) request with `Origin`: the first rule allowing its origin and method."""
        origin = request.headers.get("origin")
        name = bucket_of(request) if origin else None
        if not origin or name is None:
            return
        try:
            rules = self._engine.bucket(name).get("cors")
        except S3Error:
            return
        rule = cors.matching_rule(rules or [], origin, request.method, [])
        if rule is not None:
            response.headers += cors.answer_headers(rule, origin, None)


def _object_url(request: Request) -> bool:
    if virtual_bucket(request.headers.get("host", "")) is not None:
        return request.path not in ("", "/")
    return request.path.strip("/").count("/") >= 1
