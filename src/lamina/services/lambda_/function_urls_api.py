"""Lambda API operations for function URLs: Create/Get/Update/Delete/ListFunctionUrlConfigs
(spec/lambda-api.md §13). Thin: resolve the function reference, call `FunctionUrls`, shape the output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.url_configs import FunctionUrls
from lamina.types import CallContext

PAGE_MAX = 50


class FunctionUrlsApi:
    def __init__(self, functions: FunctionService, urls: FunctionUrls, port: Callable[[], int]) -> None:
        self._functions = functions
        self._urls = urls
        self._port = port

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    def create_function_url_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._urls.create(self._ref(ctx, params), params).to_api(self._port(), listed=False)

    def get_function_url_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._urls.get(self._ref(ctx, params)).to_api(self._port())

    def update_function_url_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._urls.update(self._ref(ctx, params), params).to_api(self._port(), listed=False)

    def delete_function_url_config(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._urls.delete(self._ref(ctx, params))

    def list_function_url_configs(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        configs = self._urls.list(self._ref(ctx, params))
        start = int(params["Marker"]) if str(params.get("Marker") or "").isdigit() else 0
        size = min(int(params.get("MaxItems") or PAGE_MAX), PAGE_MAX)
        page = configs[start : start + size]
        out: dict[str, Any] = {"FunctionUrlConfigs": [c.to_api(self._port()) for c in page]}
        if start + size < len(configs):
            out["NextMarker"] = str(start + size)
        return out
