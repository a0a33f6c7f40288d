"""The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the same evaluation that
enforces policies under `--auth sigv4` (auth/policy_evaluation.py), so it explains real decisions.

MatchedStatements names the deciding statement only for policies passed in `PolicyInputList`
(`PolicyInputList.<n>`, type `IAM Policy`); for a principal's own policies the decision is given without
positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lamina.auth.policy_evaluation import Decision, evaluate
from lamina.services.iam import policy_document
from lamina.services.iam.provider import page
from lamina.types import CallContext

# an IAM user, group or role ARN → the parsed identity policies it has (NoSuchEntity when it does not exist)
PolicySource = Callable[[str], list[dict[str, Any]]]
# an IAM user or role ARN → its permissions boundary (a parsed managed policy), None when it has none
BoundarySource = Callable[[str], dict[str, Any] | None]


def _context(entries: list[dict[str, Any]]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for entry in entries:
        values = [str(v) for v in entry.get("ContextKeyValues", [])]
        key = str(entry["ContextKeyName"]).lower()
        list_type = str(entry.get("ContextKeyType", "")).endswith("List")
        context[key] = values if list_type or len(values) != 1 else values[0]
    return context


class SimulationApi:
    def __init__(self, policies: PolicySource, boundary: BoundarySource | None = None) -> None:
        self._policies = policies
        self._boundary = boundary

    def _simulate(
        self, own: list[dict[str, Any]], params: dict[str, Any], boundary: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        given = []
        for text in params.get("PolicyInputList") or []:
            policy_document.check_identity_policy(text)
            given.append(json.loads(text))
        boundaries = []
        for text in params.get("PermissionsBoundaryPolicyInputList") or []:  # instead of the principal's own
            policy_document.check_identity_policy(text)
            boundaries.append(json.loads(text))
        if not boundaries and boundary is not None:
            boundaries = [boundary]
        context = _context(params.get("ContextEntries") or [])
        results = []
        for action in params["ActionNames"]:
            for resource in params.get("ResourceArns") or ["*"]:
                decision, statement = evaluate([*given, *own], action, resource, context)
                detail: dict[str, Any] = {}
                if boundaries:  # effective permissions: identity policies ∩ the boundary
                    bounded, _ = evaluate(boundaries, action, resource, context)
                    detail = {
                        "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": bounded is Decision.ALLOW}
                    }
                    if bounded is Decision.EXPLICIT_DENY:
                        decision, statement = Decision.EXPLICIT_DENY, None
                    elif bounded is Decision.IMPLICIT_DENY and decision is Decision.ALLOW:
                        decision, statement = Decision.IMPLICIT_DENY, None
                matched = []
                for n, document in enumerate(given, start=1):
                    if statement is not None and statement in policy_document.statements(document):
                        matched.append({"SourcePolicyId": f"PolicyInputList.{n}", "SourcePolicyType": "IAM Policy"})
                        break
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalResourceName": resource,
                        "EvalDecision": decision.value,
                        "MatchedStatements": matched,
                        "MissingContextValues": [],
                        **detail,
                    }
                )
        return page(results, params, lambda r: f"{r['EvalActionName']}|{r['EvalResourceName']}", "EvaluationResults")

    def simulate_principal_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["PolicySourceArn"]
        own = self._policies(arn)  # NoSuchEntity first
        return self._simulate(own, params, self._boundary(arn) if self._boundary is not None else None)

    def simulate_custom_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._simulate([], params)
