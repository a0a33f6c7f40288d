"""SNS subscription filter policies: which messages a subscription receives.

A policy is a JSON object of property → list of conditions (any condition matching is enough; every property
must match). Conditions: a string or number (exact), `null`, `{"prefix": s}`, `{"suffix": s}`,
`{"equals-ignore-case": s}`, `{"anything-but": v | [v…] | {"prefix": s} | {"suffix": s}}`,
`{"numeric": [">", 0, "<=", 5]}`, `{"exists": bool}`, `{"cidr": "10.0.0.0/24"}` (EventBridge's IP matching, shared
with `lamina.sources.patterns`); a top-level or nested `"$or": [policy, …]`.

Scope `MessageAttributes` matches message attributes (String: the string; Number: the number; String.Array: any
element; Binary never matches); scope `MessageBody` matches the JSON message body, where a nested object in the
policy matches a nested object in the body and a body array matches when any element does.

Numbers compare as AWS documents them ("Filter policy constraints": "the value can range from -10^9 to 10^9,
with five digits of accuracy after the decimal point"): both sides are rounded to five decimal places first, so
1.000001 equals 1.000004 and a difference in the sixth place never decides a range.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from lamina import json_text
from lamina.errors import InvalidParameter
from lamina.sources import patterns

_MISSING = object()
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr"}
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}


def parse_policy(text: str, what: str = "FilterPolicy") -> dict[str, Any]:
    """The policy document, or InvalidParameter as SNS reports it."""
    try:
        policy = json_text.loads_document(text)
    except ValueError:
        raise InvalidParameter(f"Invalid parameter: {what}: failed to parse JSON.") from None
    if not isinstance(policy, dict):
        raise InvalidParameter(f"Invalid parameter: {what}: Filter policy must be a JSON object")
    _check(policy, what)
    return policy


def _check(policy: dict[str, Any], what: str) -> None:
    for key, conditions in policy.items():
        if key == "$or":
            if not isinstance(conditions, list) or len(conditions) < 2:
                raise InvalidParameter(f"Invalid parameter: {what}: $or must be an array of at least 2 objects")
            for sub in conditions:
                if not isinstance(sub, dict):
                    raise InvalidParameter(f"Invalid parameter: {what}: $or members must be objects")
                _check(sub, what)
            continue
        if isinstance(conditions, dict):
            _check(conditions, what)
            continue
        if not isinstance(conditions, list):
            raise InvalidParameter(f'Invalid parameter: {what}: "{key}" must be an object or an array')
        for condition in conditions:
            if isinstance(condition, dict):
                if len(condition) != 1 or next(iter(condition)) not in _OPERATORS:
                    raise InvalidParameter(f"Invalid parameter: {what}: Unrecognized match type {condition}")
                op, arg = next(iter(condition.items()))
                if op == "numeric" and not _numeric_ok(arg):
                    raise InvalidParameter(f"Invalid parameter: {what}: Bad numeric range operator")
                if op == "cidr":  # the same IP matching as EventBridge's (sources/patterns.py)
                    try:
                        patterns.check(json.dumps({"ip": [condition]}))
                    except patterns.InvalidPattern as exc:
                        raise InvalidParameter(f"Invalid parameter: {what}: {exc.reason}") from None
                if op == "exists" and not isinstance(arg, bool):
                    raise InvalidParameter(
                        f"Invalid parameter: {what}: exists match pattern must be either true or false."
                    )
            elif isinstance(condition, list):
                raise InvalidParameter(
                    f"Invalid parameter: {what}: Match value must be String, number, true, false, or null"
                )


def _numeric_ok(arg: Any) -> bool:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        return False
    return all(
        isinstance(arg[i], str) and arg[i] in _NUMERIC_OPS and isinstance(arg[i + 1], int | float)
        for i in range(0, len(arg), 2)
    )


# -- matching ------------------------------------------------------------------------------------
def matches_attributes(policy: dict[str, Any], attributes: dict[str, dict[str, Any]]) -> bool:
    values: dict[str, list[Any]] = {}
    for name, attr in attributes.items():
        data_type = str(attr.get("DataType", ""))
        text = attr.get("StringValue")
        if data_type.startswith("Binary") or text is None:
            values[name] = [_BINARY]
        elif data_type.startswith("Number"):
            values[name] = [_number(text)]
        elif data_type == "String.Array":
            try:
                items = json_text.loads_document(text)
            except ValueError:
                items = None
            values[name] = items if isinstance(items, list) else [text]
        else:
            values[name] = [text]
    return _match_flat(policy, values)


_BINARY = object()


def _match_flat(policy: dict[str, Any], values: dict[str, list[Any]]) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_match_flat(sub, values) for sub in conditions):
                return False
            continue
        if not isinstance(conditions, list):
            return False  # nested policies only apply to message bodies
        if not _property_matches(conditions, values.get(key)):
            return False
    return True


def matches_body(policy: dict[str, Any], body: str) -> bool:
    try:
        document = json_text.loads_document(body)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    return _match_nested(policy, document)


def _match_nested(policy: dict[str, Any], document: Any) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_match_nested(sub, document) for sub in conditions):
                return False
            continue
        value = document.get(key, _MISSING) if isinstance(document, dict) else _MISSING
        if isinstance(conditions, dict):
            candidates = value if isinstance(value, list) else [value]
            if not any(_match_nested(conditions, c) for c in candidates if isinstance(c, dict)):
                return False
            continue
        if value is _MISSING:
            found = None
        elif isinstance(value, list):
            found = value
        else:
            found = [value]
        if not _property_matches(conditions, found):
            return False
    return True


def _property_matches(conditions: list[Any], found: list[Any] | None) -> bool:
    """Whether any of `conditions` holds for the property's values (None: the property is absent)."""
    for condition in conditions:
        if isinstance(condition, dict) and "exists" in condition:
            if bool(condition["exists"]) == (found is not None):
                return True
            continue
        if found is None:
            continue
        if isinstance(condition, dict) and "anything-but" in condition:
            if all(_anything_but(condition["anything-but"], v) for v in found):
                return True
            continue
        if any(_condition(condition, v) for v in found):
            return True
    return False


def _number(text: Any) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _condition(condition: Any, value: Any) -> bool:
    if value is _BINARY:
        return False
    if condition is None:
        return value is None
    if isinstance(condition, bool) or isinstance(value, bool):
        return condition is value
    if isinstance(condition, int | float):  # a number matches numbers only (a String attribute "10" does not)
        return isinstance(value, int | float) and fixed(value) == fixed(condition)
    if isinstance(condition, str):
        return isinstance(value, str) and value == condition
    if isinstance(condition, dict):
        op, arg = next(iter(condition.items()))
        if op == "prefix":
            return isinstance(value, str) and isinstance(arg, str) and value.startswith(arg)
        if op == "suffix":
            return isinstance(value, str) and isinstance(arg, str) and value.endswith(arg)
        if op == "equals-ignore-case":
            return isinstance(value, str) and isinstance(arg, str) and value.lower() == arg.lower()
        if op == "cidr":
            return patterns.matches({"v": [condition]}, {"v": value})
        if op == "numeric":
            if not isinstance(value, int | float) or isinstance(value, bool):
                return False
            return all(_compare(arg[i], fixed(value), fixed(arg[i + 1])) for i in range(0, len(arg), 2))
    return False


def fixed(number: float) -> int:
    """A number in hundred-thousandths, rounded half to even: the five decimal places SNS compares."""
    return int(Decimal(repr(float(number))).scaleb(5).to_integral_value())


def _compare(op: str, left: int, right: int) -> bool:
    return {
        "=": left == right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }.get(op, False)


def _anything_but(arg: Any, value: Any) -> bool:
    if value is _BINARY:
        return False
    if isinstance(arg, dict):
        op, inner = next(iter(arg.items()))
        if op == "prefix":
            return not (isinstance(value, str) and value.startswith(inner))
        if op == "suffix":
            return not (isinstance(value, str) and value.endswith(inner))
        return True
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_condition(e, value) for e in excluded)
