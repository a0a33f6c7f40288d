"""The legacy parameters (Expected, AttributeUpdates, KeyConditions, QueryFilter/ScanFilter) as the same
resolved nodes expressions give, so one evaluator serves both."""

from __future__ import annotations

from typing import Any

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.expressions.parser import Node, Path
from lamina.services.dynamodb.values import check_value

_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


def _one(name: str, spec: dict[str, Any]) -> Node:
    path: Node = ("path", (name,))
    values = [("const", check_value(v)) for v in spec.get("AttributeValueList") or []]
    operator = spec.get("ComparisonOperator")
    if operator is None:
        if spec.get("Exists", True) is False:
            if "Value" in spec:
                raise ValidationFailed(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false for "
                    f"Attribute: {name}"
                )
            return ("call", "attribute_not_exists", (path,))
        if "Value" not in spec:
            raise ValidationFailed(
                "One or more parameter values were invalid: Value must be provided when Exists is true for "
                f"Attribute: {name}"
            )
        return ("cmp", "=", path, ("const", check_value(spec["Value"])))
    if operator in _COMPARE:
        return ("cmp", _COMPARE[operator], path, values[0])
    if operator == "NOT_NULL":
        return ("call", "attribute_exists", (path,))
    if operator == "NULL":
        return ("call", "attribute_not_exists", (path,))
    if operator == "CONTAINS":
        return ("call", "contains", (path, values[0]))
    if operator == "NOT_CONTAINS":
        return ("not", ("call", "contains", (path, values[0])))
    if operator == "BEGINS_WITH":
        return ("call", "begins_with", (path, values[0]))
    if operator == "IN":
        return ("in", path, tuple(values))
    return ("between", path, values[0], values[1])


def expected_condition(expected: dict[str, Any], operator: str = "AND") -> Node:
    nodes = [_one(name, spec) for name, spec in expected.items()]
    node = nodes[0]
    for other in nodes[1:]:
        node = ("and" if operator == "AND" else "or", node, other)
    return node


def attribute_updates(updates: dict[str, Any]) -> list[tuple[str, list[tuple[Path, Node | None]]]]:
    sets: list[tuple[Path, Node | None]] = []
    removes: list[tuple[Path, Node | None]] = []
    adds: list[tuple[Path, Node | None]] = []
    deletes: list[tuple[Path, Node | None]] = []
    for name, spec in updates.items():
        action = spec.get("Action", "PUT")
        value = ("const", check_value(spec["Value"])) if "Value" in spec else None
        if action == "PUT":
            sets.append(((name,), value))
        elif action == "ADD":
            adds.append(((name,), value))
        elif value is None:
            removes.append(((name,), None))
        else:
            deletes.append(((name,), value))
    out = []
    for action, entries in (("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)):
        if entries:
            out.append((action, entries))
    return out
