"""Whether a verified caller may perform an operation (`--auth sigv4`): the identity policies of the caller
(an IAM user's own and its groups', an assumed role's) evaluated for the operation's IAM action and resource
(auth/actions.py, auth/policy_evaluation.py), then, for an implicit deny, the resource's own policy where the
service has one Lamina evaluates (Lambda function policies). The account's root may do everything.

Refusals carry AWS's message: "User: <caller> is not authorized to perform: <action> on resource: <arn>
because no identity-based policy allows the <action> action" (or "with an explicit deny in an identity-based
policy").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lamina.auth.actions import action_name, resource_arn
from lamina.auth.policy_evaluation import Context, Decision, evaluate

# caller ARN → the parsed identity policies that apply to it
PolicySource = Callable[[str], list[dict[str, Any]]]
# (caller ARN, action, resource ARN) → whether the resource's own policy allows the caller (same account: either
# an identity policy or the resource policy may grant, an explicit deny in an identity policy still wins)
ResourcePolicyCheck = Callable[[str, str, str], bool]
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})  # AWS answers it for every valid credential


class Denied(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Authorizer:
    def __init__(
        self,
        account_id: str,
        policies: PolicySource,
        now: Callable[[], float],
        resource_allows: ResourcePolicyCheck | None = None,
    ) -> None:
        self._resource_allows = resource_allows
        self._account = account_id
        self._root = f"arn:aws:iam::{account_id}:root"
        self._policies = policies
        self._now = now

    def context(self, caller: str, region: str, secure: bool = False) -> Context:
        now = self._now()
        context: dict[str, str | list[str]] = {
            "aws:principalarn": caller,
            "aws:principalaccount": self._account,
            "aws:currenttime": _stamp(now),
            "aws:epochtime": str(int(now)),
            "aws:securetransport": "true" if secure else "false",
            "aws:requestedregion": region,
        }
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        if kind == "user":
            context["aws:username"] = rest.rsplit("/", 1)[-1]
        return context

    def check(self, caller: str, signing_name: str, operation: str, params: dict[str, Any], region: str) -> None:
        """Raises Denied unless `caller` may perform `operation` with `params`."""
        if caller == self._root:
            return
        action = action_name(signing_name, operation)
        if action in ALWAYS_ALLOWED:
            return
        resource = resource_arn(signing_name, region, self._account, operation, params)
        decision, _ = evaluate(self._policies(caller), action, resource, self.context(caller, region))
        if decision is Decision.ALLOW:
            return
        granted = self._resource_allows
        if decision is Decision.IMPLICIT_DENY and granted is not None and granted(caller, action, resource):
            return
        why = (
            "with an explicit deny in an identity-based policy"
            if decision is Decision.EXPLICIT_DENY
            else f"because no identity-based policy allows the {action} action"
        )
        raise Denied(f"User: {caller} is not authorized to perform: {action} on resource: {resource} {why}")
