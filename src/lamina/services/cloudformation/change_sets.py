"""What a change set would do: the Changes CloudFormation lists for a template against a stack (Add, Modify
with Replacement, Remove), worked out from the templates and parameter values before anything is made."""

from __future__ import annotations

from typing import Any

from lamina.services.cloudformation import intrinsics
from lamina.services.cloudformation.resource_types import NAME_PROPERTIES
from lamina.services.cloudformation.stack_template import Plan

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


def _change(action: str, logical: str, kind: str, physical: str = "", **extra: Any) -> dict[str, Any]:
    change: dict[str, Any] = {"Action": action, "LogicalResourceId": logical, "ResourceType": kind}
    if physical:
        change["PhysicalResourceId"] = physical
    change.update(extra)
    return {"Type": "Resource", "ResourceChange": change}


def changes(stack: dict[str, Any] | None, plan: Plan) -> list[dict[str, Any]]:
    new = plan.template["Resources"]
    if stack is None or not stack.get("Resources"):
        return [_change("Add", n, new[n]["Type"], Scope=[], Details=[]) for n in plan.order]
    old = stack["Processed"]["Resources"]
    values = stack["Values"]
    moved = {name for name, value in plan.parameters.items() if values.get(name) != value}
    found: list[dict[str, Any]] = []
    for logical in plan.order:
        entry = stack["Resources"].get(logical)
        definition = new[logical]
        if entry is None or not entry.get("Made") or entry["ResourceType"] != definition["Type"]:
            found.append(_change("Add", logical, definition["Type"], Scope=[], Details=[]))
            continue
        before = old.get(logical, {})
        touched = intrinsics.references(definition.get("Properties") or {}) & moved
        if before.get("Properties") == definition.get("Properties") and not touched:
            continue
        name = NAME_PROPERTIES.get(definition["Type"])
        renamed = name is not None and (before.get("Properties") or {}).get(name) != (
            definition.get("Properties") or {}
        ).get(name)
        found.append(
            _change(
                "Modify",
                logical,
                definition["Type"],
                entry["PhysicalResourceId"],
                Replacement="True" if renamed else "Conditional",
                Scope=["Properties"],
                Details=[],
            )
        )
    for logical, entry in stack["Resources"].items():
        if logical not in plan.order and entry.get("Made"):
            found.append(
                _change("Remove", logical, entry["ResourceType"], entry["PhysicalResourceId"], Scope=[], Details=[])
            )
    return found
