"""Lambda API operations for function resource policies: AddPermission, RemovePermission, GetPolicy
(spec/lambda-api.md §9). Thin: resolve the function reference, call `FunctionPolicies`."""

from __future__ import annotations

from typing import Any

from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.permissions import FunctionPolicies
from lamina.types import CallContext


class PermissionsApi:
    def __init__(self, functions: FunctionService, policies: FunctionPolicies) -> None:
        self._functions = functions
        self._policies = policies

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    def add_permission(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._policies.add(self._ref(ctx, params), params)

    def remove_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._policies.remove(self._ref(ctx, params), params["StatementId"], params.get("RevisionId"))

    def get_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._policies.get(self._ref(ctx, params))
