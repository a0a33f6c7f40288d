"""Lambda API operations for per-function settings: recursion config, runtime management config (recorded
and answered) and function scaling config (refused: no capacity providers).
Thin: resolve the reference, call the settings object, shape the output."""

from __future__ import annotations

from typing import Any

from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.recursion import RecursionSettings
from lamina.functions.runtime_management import RuntimeManagementConfigs
from lamina.functions.scaling_config import refuse_without_capacity_provider
from lamina.types import CallContext


class FunctionSettingsApi:
    def __init__(
        self, functions: FunctionService, recursion: RecursionSettings, runtime: RuntimeManagementConfigs
    ) -> None:
        self._functions = functions
        self._recursion = recursion
        self._runtime = runtime

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    def put_function_recursion_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"RecursiveLoop": self._recursion.put(self._ref(ctx, params), params["RecursiveLoop"]).value}

    def get_function_recursion_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"RecursiveLoop": self._recursion.get(self._ref(ctx, params)).value}

    def put_runtime_management_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._runtime.put(self._ref(ctx, params), params).to_api()

    def get_runtime_management_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._runtime.get(self._ref(ctx, params)).to_api()

    def put_function_scaling_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        refuse_without_capacity_provider(self._functions, self._ref(ctx, params))
        return {}  # not reached

    def get_function_scaling_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        refuse_without_capacity_provider(self._functions, self._ref(ctx, params))
        return {}  # not reached
