"""Invoking functions on behalf of another AWS service (a load balancer, an API stage): the small interface
those services get instead of Lambda's engines. The call is judged by the function's resource policy for the
service's principal, as AWS does, then goes through the one invoke path (`InvokeFront`)."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.functions.control import FunctionService
from lamina.functions.permissions import FunctionPolicies
from lamina.services.lambda_.invocation import InvokeFront
from lamina.types import CallContext


class ServiceInvoker:
    def __init__(self, functions: FunctionService, policies: FunctionPolicies, front: InvokeFront, principal: str):
        self._functions = functions
        self._policies = policies
        self._front = front
        self.principal = principal
        # url_allowed's answers by (function, qualifier, auth type), with the policy they were judged on: a
        # policy is replaced, never changed in place, so the same object gives the same answer.
        self._url_verdicts: dict[tuple[str, str | None, str], tuple[object, bool]] = {}

    def exists(self, function_id: str, region: str, account: str) -> bool:
        """Whether `function_id` (a name or ARN, maybe qualified) names a function, version or alias."""
        try:
            self._functions.config(self._functions.resolve(function_id, region, account))
        except LaminaError:
            return False
        return True

    def allowed(self, function_id: str, region: str, account: str, source_arn: str) -> bool:
        """Whether the function's policy lets this service invoke it for `source_arn`."""
        try:
            ref = self._functions.resolve(function_id, region, account)
        except LaminaError:
            return False
        return self._policies.allows(
            ref.arn, self.principal, source_arn=source_arn, source_account=account, qualifier=ref.qualifier
        )

    def url_allowed(self, function_arn: str, qualifier: str | None, auth_type: str) -> bool:
        """Whether the policy lets anyone (`*`) call the function's URL of `auth_type` (function URLs)."""
        key = (function_arn, qualifier, auth_type)
        policy = self._policies.policy(function_arn, qualifier)
        known = self._url_verdicts.get(key)
        if known is not None and known[0] is policy:
            return known[1]
        verdict = self._policies.allows(
            function_arn, "*", "lambda:InvokeFunctionUrl", qualifier=qualifier, function_url_auth_type=auth_type
        )
        if len(self._url_verdicts) > 10_000:
            self._url_verdicts.clear()
        self._url_verdicts[key] = (policy, verdict)
        return verdict

    async def invoke(self, function_id: str, region: str, account: str, payload: bytes, request_id: str) -> Any:
        """Invoke's output members (StatusCode, FunctionError, Payload); raises LaminaError (throttled, gone)."""
        ctx = CallContext(region, account, request_id, "")
        return await self._front.invoke(ctx, {"FunctionName": function_id, "Payload": payload})
