"""Event patterns: the one implementation behind EventBridge rules, TestEventPattern and Lambda event filtering
(spec/events.md §6).

`check(text)` parses and validates a pattern (raising `InvalidPattern` whose message is AWS's "Reason"), and
`matches(pattern, event)` decides whether one event matches one checked pattern.

Matching works the way AWS's event-ruler does: the event is seen as flattened paths (`detail.state.status`) with
the leaf values found there (an array contributes each of its elements, an empty array nothing), so a pattern key
written with dots (`"state.status"`) means the same as the nested form. A field named in the pattern must have a
value that one of its matchers accepts; `exists: false` asks for no value at all. The validation messages are
the ones AWS answers (compared with the recorded services__events__test_events_patterns entries); a JSON syntax
error carries Jackson's `at [Source: …; line, column]` tail as AWS's does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from lamina import json_text


class InvalidPattern(ValueError):
    """`reason` is AWS's text after "Event pattern is not valid. Reason: "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_MATCHERS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"}
)
_NUMERIC_OPS = ("=", "<", "<=", ">", ">=")
NUMERIC_LIMIT = 5.0e9  # §6: numeric matching accepts -5.0e9 … +5.0e9
MAX_WILDCARDS = 5  # AWS refuses wildcard patterns past a complexity bound ("Rule is too complex")
_OR_PRODUCT_LIMIT = 1000  # §6: the product of the $or array sizes


def check(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise InvalidPattern("Filter is not an object")
    try:
        pattern = json_text.loads_document(text)
    except ValueError:
        raise InvalidPattern(_syntax_reason(text)) from None
    if not isinstance(pattern, dict):
        raise InvalidPattern(f"Filter is not an object{_source(text, 1, 2)}")
    _check_object(pattern)
    if _or_product(pattern) > _OR_PRODUCT_LIMIT:
        raise InvalidPattern("Rule is too complex - try using fewer $or conditions")
    return pattern


# -- JSON syntax errors, as Jackson (AWS's parser) words them --------------------------------------
def _source(text: str, line: int, column: int) -> str:
    return f'\n at [Source: (String)"{text}"; line: {line}, column: {column}]'


def _syntax_reason(text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        pos, line, col, msg = exc.pos, exc.lineno, exc.colno, exc.msg
    except (ValueError, RecursionError):
        return "Filter is too deeply nested"
    else:
        return "Filter is too deeply nested"
    char = text[pos] if pos < len(text) else ""
    if char and (char.isalpha() or char in "_$"):
        token = re.match(r"[A-Za-z0-9_$]+", text[pos:])
        word = token.group(0) if token else char
        return (
            f"Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', "
            f"'true' or 'false'){_source(text, line, col + len(word))}"
        )
    if not char:
        return f"Unexpected end-of-input{_source(text, line, col)}"
    expecting = "double-quote to start field name" if msg.startswith("Expecting property name") else "value"
    return f"Unexpected character ('{char}' (code {ord(char)})): was expecting {expecting}{_source(text, line, col)}"


# -- validation -------------------------------------------------------------------------------------
def _check_object(pattern: dict[str, Any]) -> None:
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                raise InvalidPattern("Or relationship must be an array of at least two objects")
            for v in value:
                _check_object(v)
        elif isinstance(value, dict):
            if not value:
                raise InvalidPattern("Empty objects are not allowed")
            _check_object(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidPattern("Empty arrays are not allowed")
            for m in value:
                _check_matcher(m)
        else:
            raise InvalidPattern(f'"{key}" must be an object or an array')


def _check_matcher(m: Any) -> None:
    if isinstance(m, list):
        raise InvalidPattern("Match value must be String, number, true, false, or null")
    if not isinstance(m, dict):
        return
    if not m:
        raise InvalidPattern("Empty objects are not allowed")
    kind = next(iter(m))
    if kind not in _MATCHERS:
        raise InvalidPattern(f"Unrecognized match type {kind}")
    if len(m) != 1:
        raise InvalidPattern(f"Only one key allowed in match expression, found {len(m)}")
    arg = m[kind]
    if kind in ("prefix", "suffix"):
        if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"] and isinstance(arg["equals-ignore-case"], str):
            return
        if not isinstance(arg, str):
            raise InvalidPattern(f"{kind} match pattern must be a string")
    elif kind == "equals-ignore-case":
        if not isinstance(arg, str):
            raise InvalidPattern("equals-ignore-case match pattern must be a string")
    elif kind == "wildcard":
        _check_wildcard(arg)
    elif kind == "numeric":
        numeric_conditions(arg)
    elif kind == "exists":
        if not isinstance(arg, bool):
            raise InvalidPattern("exists match pattern must be either true or false.")
    elif kind == "cidr":
        if not isinstance(arg, str):
            raise InvalidPattern("prefix match pattern must be a string")  # sic: AWS's message for a non-string
        network(arg)
    else:
        _check_anything_but(arg)


def _check_wildcard(arg: Any) -> None:
    if not isinstance(arg, str):
        raise InvalidPattern("wildcard match pattern must be a string")
    at = arg.find("**")
    if at >= 0:
        raise InvalidPattern(f"Consecutive wildcard characters at pos {at + 1}")
    if arg.count("*") > MAX_WILDCARDS:
        raise InvalidPattern(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
            "after a wildcard character"
        )


def _check_anything_but(arg: Any) -> None:
    if isinstance(arg, str) or _is_number(arg):
        return
    if isinstance(arg, list):
        if not arg:
            raise InvalidPattern("Empty arrays are not allowed")
        if any(v is None or isinstance(v, bool | dict | list) for v in arg):
            raise InvalidPattern("Inside anything but list, start|null|boolean is not supported.")
        if len({isinstance(v, str) for v in arg}) > 1:
            raise InvalidPattern("Inside anything but list, all values must be of the same type")
        return
    if isinstance(arg, dict) and len(arg) == 1:
        kind, inner = next(iter(arg.items()))
        values = inner if isinstance(inner, list) else [inner]
        if kind in ("prefix", "suffix"):
            if isinstance(inner, dict):
                raise InvalidPattern("Value of anything-but must be an array or single string/number value.")
            if not all(isinstance(v, str) for v in values):
                raise InvalidPattern("prefix/suffix match pattern must be a string")
            if any(v == "" for v in values):
                raise InvalidPattern("Null prefix/suffix not allowed")
            return
        if kind == "equals-ignore-case":
            if not values or not all(isinstance(v, str) for v in values):
                raise InvalidPattern(
                    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                )
            return
        if kind == "wildcard":
            for v in values:
                _check_wildcard(v)
            return
        raise InvalidPattern(f"Unsupported anything-but pattern: {kind}")
    raise InvalidPattern("Value of anything-but must be an array or single string/number value.")


def numeric_conditions(spec: Any) -> list[tuple[str, float]]:
    """`[">", 0, "<=", 5]` as (operator, bound) pairs: "=" alone, or a lower bound and/or an upper bound."""
    if not isinstance(spec, list):
        raise InvalidPattern("Value of numeric must be an array.")
    if not spec:
        raise InvalidPattern("Empty arrays are not allowed")
    out: list[tuple[str, float]] = []
    for i in range(0, len(spec), 2):
        op = spec[i]
        if not isinstance(op, str) or op not in _NUMERIC_OPS:
            raise InvalidPattern(f"Unrecognized numeric range operator: {op}")
        if out and (op == "=" or out[0][0] == "=" or (op in (">", ">=")) == (out[0][0] in (">", ">=")) or i > 2):
            raise InvalidPattern(f"Bad numeric range operator: {op}")
        if i + 1 >= len(spec) or not _is_number(spec[i + 1]):
            raise InvalidPattern(f"Value of {op} must be numeric")
        bound = float(spec[i + 1])
        if not -NUMERIC_LIMIT <= bound <= NUMERIC_LIMIT:
            raise InvalidPattern(f"Value of {op} must be numeric")
        out.append((op, bound))
    if len(out) == 2:
        low, high = (out[0], out[1]) if out[0][0] in (">", ">=") else (out[1], out[0])
        if low[1] >= high[1]:
            raise InvalidPattern("Bottom must be less than top")
    return out


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if text.count("/") != 1:
        raise InvalidPattern("Malformed CIDR, one '/' required")
    address, bits = text.split("/")
    if not bits.isdigit():
        raise InvalidPattern("Malformed CIDR, mask bits must be an integer")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidPattern(f"Nonstandard IP address: {address}") from None
    if int(bits) > ip.max_prefixlen:
        raise InvalidPattern(f"Malformed CIDR, mask bits must be between 0 and {ip.max_prefixlen}")
    return ipaddress.ip_network(text, strict=False)


def _or_product(pattern: dict[str, Any]) -> int:
    product = 1
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            product *= sum(_or_product(v) for v in value)
        elif isinstance(value, dict):
            product *= _or_product(value)
    return product


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- matching ---------------------------------------------------------------------------------------
def flatten(event: Any) -> dict[str, list[Any]]:
    """`{"a": {"b": [1, {"c": 2}]}}` → `{"a.b": [1], "a.b.c": [2]}`: every leaf value under its dotted path."""
    out: dict[str, list[Any]] = {}
    stack: list[tuple[str, Any]] = [("", event)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, inner in value.items():
                stack.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(value, list):
            stack.extend((path, inner) for inner in reversed(value))
        elif path:
            out.setdefault(path, []).append(value)
    for values in out.values():
        values.reverse()
    return out


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    return _matches(pattern, flatten(event), "")


def matches_flat(pattern: dict[str, Any], flat: dict[str, list[Any]]) -> bool:
    """As `matches`, for an event already flattened (one flattening serves every rule of a bus)."""
    return _matches(pattern, flat, "")


def _matches(pattern: dict[str, Any], flat: dict[str, list[Any]], prefix: str) -> bool:
    for key, want in pattern.items():
        if key == "$or":
            if not any(_matches(p, flat, prefix) for p in want):
                return False
        elif isinstance(want, dict):
            if not _matches(want, flat, f"{prefix}{key}."):
                return False
        elif not _leaf(want, flat.get(prefix + key)):
            return False
    return True


def _leaf(matchers: list[Any], values: list[Any] | None) -> bool:
    for m in matchers:
        if isinstance(m, dict) and "exists" in m:
            if bool(values) == m["exists"]:
                return True
            continue
        if values and any(_one(m, v) for v in values):
            return True
    return False


def _one(m: Any, v: Any) -> bool:
    if not isinstance(m, dict):
        if m is None or isinstance(m, bool) or v is None or isinstance(v, bool):
            return m is v
        if _is_number(m):  # AWS compares numbers by value: 300 matches 300.0 (recorded number_comparison_float)
            return _is_number(v) and float(m) == float(v)
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
        if not _is_number(v):
            return False
        return all(_compare(op, float(v), bound) for op, bound in numeric_conditions(arg))
    if kind == "cidr":
        try:
            return isinstance(v, str) and ipaddress.ip_address(v) in network(arg)
        except (ValueError, InvalidPattern):
            return False
    if kind == "anything-but":
        return _anything_but(arg, v)
    return False


def _anything_but(arg: Any, v: Any) -> bool:
    if isinstance(arg, list):
        return not any(_one(a, v) for a in arg)
    if isinstance(arg, dict):
        kind, inner = next(iter(arg.items()))
        if kind == "equals-ignore-case" and isinstance(inner, list):
            return not any(_one({kind: i}, v) for i in inner)
        if isinstance(inner, list):
            return not any(_one({kind: i}, v) for i in inner)
        return not _one(arg, v)
    return not _one(arg, v)


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
