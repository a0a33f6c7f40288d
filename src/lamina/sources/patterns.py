"""EventBridge event patterns, as Lambda event filtering uses them (spec/events.md §6).

`check(text)` validates a `FilterCriteria.Filters[].Pattern` string (raising `InvalidPattern`);
`matches(pattern, event)` decides whether one record matches one parsed pattern.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from lamina import json_text


class InvalidPattern(ValueError):
    pass


_MATCHERS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"}
)


def check(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise InvalidPattern("pattern is not a string")
    try:
        pattern = json_text.loads_document(text)
    except ValueError:
        raise InvalidPattern("pattern is not JSON") from None
    if not isinstance(pattern, dict):
        raise InvalidPattern("pattern is not an object")
    _check_object(pattern)
    return pattern


def _check_object(pattern: dict[str, Any]) -> None:
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                raise InvalidPattern("$or needs a list of patterns")
            for v in value:
                _check_object(v)
        elif isinstance(value, dict):
            if not value:
                raise InvalidPattern("empty object")
            _check_object(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidPattern("empty matcher list")
            for m in value:
                if isinstance(m, dict):
                    if len(m) != 1 or next(iter(m)) not in _MATCHERS:
                        raise InvalidPattern("unknown matcher")
                    if "numeric" in m:
                        _numeric_conditions(m["numeric"])
                elif isinstance(m, list):
                    raise InvalidPattern("nested list")
        else:
            raise InvalidPattern("a leaf must be a list")


def _numeric_conditions(spec: Any) -> list[tuple[str, float]]:
    if not isinstance(spec, list) or not spec or len(spec) % 2:
        raise InvalidPattern("bad numeric matcher")
    out = []
    for i in range(0, len(spec), 2):
        op, value = spec[i], spec[i + 1]
        if op not in ("=", "<", "<=", ">", ">=") or isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidPattern("bad numeric matcher")
        out.append((op, float(value)))
    return out


_MISSING = object()


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for key, want in pattern.items():
        if key == "$or":
            if not any(matches(p, event) for p in want):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(want, dict):
            if not matches(want, value if value is not _MISSING else {}):
                return False
        elif not _leaf(want, value):
            return False
    return True


def _leaf(matchers: list[Any], value: Any) -> bool:
    for m in matchers:
        if isinstance(m, dict) and "exists" in m:
            if (value is not _MISSING) == bool(m["exists"]):
                return True
            continue
        if value is _MISSING:
            continue
        values = value if isinstance(value, list) else [value]
        if any(_one(m, v) for v in values):
            return True
    return False


def _one(m: Any, v: Any) -> bool:
    if not isinstance(m, dict):
        if m is None or isinstance(m, bool) or v is None or isinstance(v, bool):
            return m is v
        return type(m) is type(v) and bool(m == v)
    kind, arg = next(iter(m.items()))
    if kind == "prefix":
        return _string_test(arg, v, str.startswith)
    if kind == "suffix":
        return _string_test(arg, v, str.endswith)
    if kind == "equals-ignore-case":
        return isinstance(v, str) and isinstance(arg, str) and v.lower() == arg.lower()
    if kind == "wildcard":
        return isinstance(v, str) and isinstance(arg, str) and _wildcard(arg, v)
    if kind == "numeric":
        if isinstance(v, bool) or not isinstance(v, int | float):
            return False
        return all(_compare(op, float(v), bound) for op, bound in _numeric_conditions(arg))
    if kind == "cidr":
        try:
            return isinstance(v, str) and ipaddress.ip_address(v) in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return False
    if kind == "anything-but":
        if isinstance(arg, list):
            return not any(_one(a, v) for a in arg)
        if isinstance(arg, dict):
            return not _one(arg, v)
        return not _one(arg, v)
    return False


def _string_test(arg: Any, v: Any, test: Any) -> bool:
    if not isinstance(v, str):
        return False
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return bool(test(v.lower(), str(arg["equals-ignore-case"]).lower()))
    return isinstance(arg, str) and bool(test(v, arg))


def _wildcard(pattern: str, value: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _compare(op: str, value: float, bound: float) -> bool:
    if op == "=":
        return value == bound
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    return value >= bound
