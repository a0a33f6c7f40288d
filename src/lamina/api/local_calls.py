"""Operations of Lamina's own services called in-process, as a user's request would reach them but without
HTTP: the same model validation, the same provider method, the same errors. CloudFormation provisions
resources through this (services/cloudformation/), so a stack's queue is made exactly as CreateQueue makes one.
A call made for a `caller` (the console's signed-in identity under --auth sigv4) is first evaluated against the
caller's policies by the same authorizer the gateway uses for signed requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.api.gateway import ServiceBinding, new_request_id
from lamina.auth.authorizer import Authorizer, Denied
from lamina.errors import AccessDenied, UnknownOperation
from lamina.types import CallContext


class LocalCalls:
    def __init__(
        self,
        services: list[ServiceBinding],
        region: str,
        account_id: str,
        base_url: Callable[[], str],
        authorizer: Authorizer | None = None,
    ) -> None:
        self._authorizer = authorizer
        self._services = {s.name: s for s in services}
        self._region = region
        self._account_id = account_id
        self._base_url = base_url  # the URL queue URLs and the like name (the port is known once listening)

    def add(self, service: ServiceBinding) -> None:
        """A service bound after these calls were made (CloudFormation itself, for nested stacks)."""
        self._services[service.name] = service

    async def __call__(
        self, service: str, operation: str, params: dict[str, Any], caller: str | None = None
    ) -> dict[str, Any]:
        binding = self._services[service]
        op = binding.model.operation_model(operation)
        if op.input_shape is not None:
            binding.validator.validate(op.input_shape, params)
        self.authorize(service, operation, params, caller)
        method = binding.handler(op)
        if method is None:
            raise UnknownOperation(f"{service} {operation} is not served by Lamina")
        result = method(self.context(), params)
        if hasattr(result, "__await__"):
            result = await result
        return dict(result or {})

    def authorize(self, service: str, operation: str, params: dict[str, Any], caller: str | None) -> None:
        """AccessDenied unless `caller` (None: the account itself) may call `operation` with `params`: for an
        in-process read that is not a wire operation but is allowed exactly when that operation is."""
        if caller is not None and self._authorizer is not None:
            try:
                self._authorizer.check(caller, self._services[service].signing_name, operation, params, self._region)
            except Denied as denied:
                raise AccessDenied(denied.message) from None

    def context(self) -> CallContext:
        """The call context of one in-process call (region, account, a fresh request id, the base URL)."""
        return CallContext(self._region, self._account_id, new_request_id(), self._base_url())
