"""Lambda API operations for reserved and provisioned concurrency (spec/lambda-api.md §10).

Thin: resolve the function reference, call `ConcurrencyControls`, shape the output."""

from __future__ import annotations

from typing import Any

from lamina.functions.concurrency import ConcurrencyControls
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.types import CallContext


class ConcurrencyApi:
    def __init__(self, functions: FunctionService, controls: ConcurrencyControls) -> None:
        self._functions = functions
        self._controls = controls

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    # -- reserved -------------------------------------------------------------------------------------
    def put_function_concurrency(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        reserved = self._controls.put_reserved(self._ref(ctx, params), params["ReservedConcurrentExecutions"])
        return {"ReservedConcurrentExecutions": reserved}

    def get_function_concurrency(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        reserved = self._controls.get_reserved(self._ref(ctx, params))
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def delete_function_concurrency(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._controls.delete_reserved(self._ref(ctx, params))

    # -- provisioned ----------------------------------------------------------------------------------
    def put_provisioned_concurrency_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._controls.put_provisioned(self._ref(ctx, params), params["ProvisionedConcurrentExecutions"])

    def get_provisioned_concurrency_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._controls.get_provisioned(self._ref(ctx, params))

    def delete_provisioned_concurrency_config(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._controls.delete_provisioned(self._ref(ctx, params))

    def list_provisioned_concurrency_configs(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._controls.list_provisioned(ref, params.get("Marker"), params.get("MaxItems"))
