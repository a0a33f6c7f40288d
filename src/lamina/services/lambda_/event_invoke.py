"""The Lambda API operations for asynchronous invocation: the event invoke config family
(lambda-api.md §11) and the legacy InvokeAsync (§17). Composed into `LambdaProvider`.

Thin as every provider: parse names, call `EventInvokeConfigs` or the invoke front, shape the output.
"""

from __future__ import annotations

from typing import Any

from lamina.functions.control import FunctionService
from lamina.functions.event_invoke_config import EventInvokeConfigs
from lamina.functions.names import FunctionRef
from lamina.services.lambda_.invocation import InvokeFront
from lamina.types import CallContext

OPERATIONS = (
    "put_function_event_invoke_config",
    "update_function_event_invoke_config",
    "get_function_event_invoke_config",
    "delete_function_event_invoke_config",
    "list_function_event_invoke_configs",
    "invoke_async",
)


class EventInvokeApi:
    def __init__(self, functions: FunctionService, configs: EventInvokeConfigs, front: InvokeFront) -> None:
        self._functions = functions
        self._configs = configs
        self._front = front

    def attach(self, provider: object) -> None:
        """Composes these operations into the Lambda provider (the gateway finds methods by name)."""
        for operation in OPERATIONS:
            setattr(provider, operation, getattr(self, operation))

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    def put_function_event_invoke_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._configs.put(self._ref(ctx, params), params).to_api()

    def update_function_event_invoke_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._configs.update(self._ref(ctx, params), params).to_api()

    def get_function_event_invoke_config(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._configs.get(self._ref(ctx, params)).to_api()

    def delete_function_event_invoke_config(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._configs.delete(self._ref(ctx, params))

    def list_function_event_invoke_configs(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        page, marker = self._configs.list(self._ref(ctx, params), params.get("Marker"), params.get("MaxItems"))
        out: dict[str, Any] = {"FunctionEventInvokeConfigs": [c.to_api() for c in page]}
        if marker is not None:
            out["NextMarker"] = marker
        return out

    async def invoke_async(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Deprecated InvokeAsync: an Event invoke of `InvokeArgs` (≤256 KB, enforced by the gateway)."""
        await self._front.invoke(
            ctx,
            {
                "FunctionName": params["FunctionName"],
                "InvocationType": "Event",
                "Payload": params.get("InvokeArgs") or b"{}",
            },
        )
        return {"Status": 202}
