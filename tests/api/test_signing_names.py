"""Services that share a SigV4 signing name (API Gateway's REST `apigateway` and HTTP `apigatewayv2`
both sign as `apigateway`) are told apart by which one's routes match the request."""

from __future__ import annotations

import asyncio
from typing import Any

from lamina.api.gateway import Gateway, bind_service
from lamina.api.messages import Request
from lamina.types import CallContext

_SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/apigateway/aws4_request, Signature=00"


class _Apis:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_apis(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("v2.GetApis")
        return {"Items": []}

    def get_rest_apis(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("v1.GetRestApis")
        return {"items": []}


def _signed(path: str) -> Request:
    return Request("GET", path, "", {"host": "127.0.0.1:4566", "authorization": _SIGNED}, b"")


def test_each_path_reaches_the_service_whose_routes_match_it_under_one_signing_name() -> None:
    apis = _Apis()
    # Registered in both orders: the answer must not depend on which binding came first.
    for order in ((0, 1), (1, 0)):
        bindings = [bind_service("apigateway", apis), bind_service("apigatewayv2", apis)]
        gateway = Gateway([bindings[i] for i in order], "us-east-1", "000000000000", "http://127.0.0.1:1")
        apis.calls.clear()
        v2 = asyncio.run(gateway.handle(_signed("/v2/apis")))
        v1 = asyncio.run(gateway.handle(_signed("/restapis")))
        assert (v2.status, v1.status) == (200, 200)
        assert apis.calls == ["v2.GetApis", "v1.GetRestApis"]
