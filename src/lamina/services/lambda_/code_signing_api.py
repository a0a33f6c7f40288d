"""Lambda API operations for code signing configs and the functions that use them.
Thin: resolve the reference, call functions/code_signing.py, shape the output."""

from __future__ import annotations

from typing import Any

from lamina.functions.code_signing import CodeSigningConfigs
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.types import CallContext


class CodeSigningApi:
    def __init__(self, functions: FunctionService, configs: CodeSigningConfigs) -> None:
        self._functions = functions
        self._configs = configs

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)

    def create_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"CodeSigningConfig": self._configs.create(ctx.region, ctx.account_id, params).to_api()}

    def get_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"CodeSigningConfig": self._configs.get(params["CodeSigningConfigArn"]).to_api()}

    def update_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"CodeSigningConfig": self._configs.update(params["CodeSigningConfigArn"], params).to_api()}

    def delete_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._configs.delete(params["CodeSigningConfigArn"])
        return {}

    def list_code_signing_configs(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        page, following = self._configs.listing(ctx.region, params.get("Marker"), params.get("MaxItems"))
        out: dict[str, Any] = {"CodeSigningConfigs": [c.to_api() for c in page]}
        if following is not None:
            out["NextMarker"] = following
        return out

    def put_function_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._ref(ctx, params)
        self._configs.put_for_function(ref, params["CodeSigningConfigArn"])
        return {"CodeSigningConfigArn": params["CodeSigningConfigArn"], "FunctionName": ref.name}

    def get_function_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._ref(ctx, params)
        arn = self._configs.for_function(ref)
        # A function without a config answers an empty 200 (recorded: get_function_csc_fnwithoutcsc).
        return {} if arn is None else {"CodeSigningConfigArn": arn, "FunctionName": ref.name}

    def delete_function_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._configs.delete_for_function(self._ref(ctx, params))
        return {}

    def list_functions_by_code_signing_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns, following = self._configs.list_functions(
            params["CodeSigningConfigArn"], params.get("Marker"), params.get("MaxItems")
        )
        out: dict[str, Any] = {"FunctionArns": arns}
        if following is not None:
            out["NextMarker"] = following
        return out
