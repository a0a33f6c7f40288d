"""Evaluating resolved expressions (parser.py) against items: conditions, updates and projections.

Updates follow DynamoDB: every operand is read from the item as it was before the update, then the
actions are applied; a SET of a nested path needs its parent to exist.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.expressions.parser import Node, Path
from lamina.services.dynamodb.values import SET_TYPES, Item, Value, equal, number, render, sort_key

_NO_PATH = "The document path provided in the update expression is invalid for update"
_BAD_TYPE = "An operand in the update expression has an incorrect data type"


def get(item: Item, path: Path) -> Value | None:
    first = path[0]
    if not isinstance(first, str):
        return None
    value = item.get(first)
    for step in path[1:]:
        if value is None:
            return None
        if isinstance(step, int):
            inner = value.get("L")
            value = inner[step] if inner is not None and step < len(inner) else None
        else:
            members = value.get("M")
            value = members.get(step) if members is not None else None
    return value


# -- conditions ---------------------------------------------------------------------------------
def matches(node: Node, item: Item) -> bool:
    tag = node[0]
    if tag == "and":
        return matches(node[1], item) and matches(node[2], item)
    if tag == "or":
        return matches(node[1], item) or matches(node[2], item)
    if tag == "not":
        return not matches(node[1], item)
    if tag == "cmp":
        return _compare(node[1], operand(node[2], item), operand(node[3], item))
    if tag == "between":
        value, low, high = (operand(n, item) for n in node[1:])
        if low is not None and high is not None and _ordered(low, high) and sort_key(low) > sort_key(high):
            raise ValidationFailed(
                "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal "
                f"to lower bound; lower bound operand: AttributeValue: {render(low)}, upper bound operand: "
                f"AttributeValue: {render(high)}"
            )
        return _compare(">=", value, low) and _compare("<=", value, high)
    if tag == "in":
        value = operand(node[1], item)
        return any(_compare("=", value, operand(o, item)) for o in node[2])
    return _function(node[1], node[2], item)


def operand(node: Node, item: Item) -> Value | None:
    tag = node[0]
    if tag == "const":
        return node[1]  # type: ignore[no-any-return]
    if tag == "path":
        return get(item, node[1])
    value = operand(node[2][0], item)  # size(path)
    if value is None:
        return None
    ((name, inner),) = value.items()
    if name in ("S",):
        return {"N": str(len(inner))}
    if name in ("B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(inner))}
    return None


def _ordered(a: Value, b: Value) -> bool:
    ka = next(iter(a))
    return ka in ("N", "S", "B") and ka == next(iter(b))


def _compare(op: str, a: Value | None, b: Value | None) -> bool:
    if op == "<>":
        return a is None or b is None or not equal(a, b)
    if a is None or b is None:
        return False
    if op == "=":
        return equal(a, b)
    if not _ordered(a, b):
        return False
    ka, kb = sort_key(a), sort_key(b)
    if op == "<":
        return bool(ka < kb)
    if op == "<=":
        return bool(ka <= kb)
    if op == ">":
        return bool(ka > kb)
    return bool(ka >= kb)


def _function(name: str, args: tuple[Node, ...], item: Item) -> bool:
    value = operand(args[0], item)
    if name == "attribute_exists":
        return value is not None
    if name == "attribute_not_exists":
        return value is None
    other = operand(args[1], item)
    if value is None or other is None:
        return False
    if name == "attribute_type":
        return next(iter(value)) == other.get("S")
    kind, inner = next(iter(value.items()))
    okind, oinner = next(iter(other.items()))
    if name == "begins_with":
        if kind == "S" and okind == "S":
            return bool(inner.startswith(oinner))
        if kind == "B" and okind == "B":
            return bool(inner.startswith(oinner))
        return False
    # contains
    if kind == "S" and okind == "S":
        return oinner in inner
    if kind == "B" and okind == "B":
        return oinner in inner
    if kind in SET_TYPES and SET_TYPES[kind] == okind:
        return any(equal({okind: m}, other) for m in inner)
    if kind == "L":
        return any(equal(v, other) for v in inner)
    return False


# -- updates ------------------------------------------------------------------------------------
def apply_update(item: Item, actions: list[tuple[str, list[tuple[Path, Node | None]]]]) -> Item:
    """The item after the update's actions (a new object; `item` is unchanged)."""
    computed: list[tuple[str, Path, Value | None]] = []
    for action, entries in actions:
        for path, node in entries:
            if action == "SET":
                assert node is not None
                computed.append(("SET", path, _set_value(node, item)))
            else:
                computed.append((action, path, None if node is None else node[1]))
    result = copy.deepcopy(item)
    removals: list[Path] = []
    for action, path, value in computed:
        if action == "SET":
            assert value is not None
            _assign(result, path, value)
        elif action == "REMOVE":
            removals.append(path)
        elif action == "ADD":
            assert value is not None
            _add(result, path, value)
        else:
            assert value is not None
            _delete(result, path, value)
    # list elements go from the highest index down, so earlier removals do not shift later ones
    for path in sorted(removals, key=lambda p: [(-x if isinstance(x, int) else 0) for x in p]):
        _remove(result, path)
    return result


def _set_value(node: Node, item: Item) -> Value:
    tag = node[0]
    if tag == "const":
        return node[1]  # type: ignore[no-any-return]
    if tag == "path":
        found = get(item, node[1])
        if found is None:
            raise ValidationFailed("The provided expression refers to an attribute that does not exist in the item")
        return found
    if tag in ("+", "-"):
        a, b = _set_value(node[1], item), _set_value(node[2], item)
        if "N" not in a or "N" not in b:
            raise ValidationFailed(_BAD_TYPE)
        total = Decimal(a["N"]) + Decimal(b["N"]) if tag == "+" else Decimal(a["N"]) - Decimal(b["N"])
        return {"N": number(str(total))}
    name, args = node[1], node[2]
    if name == "if_not_exists":
        found = get(item, args[0][1])
        return found if found is not None else _set_value(args[1], item)
    first, second = _set_value(args[0], item), _set_value(args[1], item)  # list_append
    if "L" not in first or "L" not in second:
        raise ValidationFailed(_BAD_TYPE)
    return {"L": [*first["L"], *second["L"]]}


def _parent(item: Item, path: Path) -> Any:
    """The map (dict of values) or list holding the last element of `path`; invalid paths refuse."""
    container: Any = item
    for step in path[:-1]:
        value = container.get(step) if isinstance(container, dict) else _at(container, step)
        if value is None:
            raise ValidationFailed(_NO_PATH)
        container = value.get("M") if "M" in value else value.get("L")
        if container is None:
            raise ValidationFailed(_NO_PATH)
    return container


def _at(container: Any, step: str | int) -> Value | None:
    if isinstance(container, list) and isinstance(step, int):
        return container[step] if step < len(container) else None
    return None


def _assign(item: Item, path: Path, value: Value) -> None:
    parent = _parent(item, path)
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list) and isinstance(last, int):
        if last < len(parent):
            parent[last] = copy.deepcopy(value)
        else:
            parent.append(copy.deepcopy(value))
    else:
        raise ValidationFailed(_NO_PATH)


def _remove(item: Item, path: Path) -> None:
    try:
        parent = _parent(item, path)
    except ValidationFailed:
        return
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)


def _add(item: Item, path: Path, value: Value) -> None:
    current = get(item, path)
    kind = next(iter(value))
    if current is None:
        _assign(item, path, value)
        return
    if kind not in current:
        raise ValidationFailed(_BAD_TYPE)
    if kind == "N":
        _assign(item, path, {"N": number(str(Decimal(current["N"]) + Decimal(value["N"])))})
        return
    merged = list(current[kind])
    for member in value[kind]:
        if not any(equal({SET_TYPES[kind]: member}, {SET_TYPES[kind]: m}) for m in merged):
            merged.append(member)
    _assign(item, path, {kind: merged})


def _delete(item: Item, path: Path, value: Value) -> None:
    current = get(item, path)
    kind = next(iter(value))
    if current is None:
        return
    if kind not in current:
        raise ValidationFailed(_BAD_TYPE)
    member_kind = SET_TYPES[kind]
    kept = [m for m in current[kind] if not any(equal({member_kind: m}, {member_kind: d}) for d in value[kind])]
    if kept:
        _assign(item, path, {kind: kept})
    else:
        _remove(item, path)


def touches(actions: list[tuple[str, list[tuple[Path, Node | None]]]]) -> set[str]:
    """The top-level attribute names an update writes (for the key-attribute check)."""
    return {str(path[0]) for _, entries in actions for path, _ in entries}


# -- projections --------------------------------------------------------------------------------
def project(item: Item, paths: list[Path]) -> Item:
    tree: dict[Any, Any] = {}
    for path in paths:
        value = get(item, path)
        if value is None:
            continue
        node = tree
        for step in path[:-1]:
            node = node.setdefault(step, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = ("leaf", value)
    return {k: _build(v, item[k]) for k, v in tree.items() if isinstance(k, str)}


def _build(node: Any, original: Value) -> Value:
    if isinstance(node, tuple):
        built: Value = copy.deepcopy(node[1])
        return built
    if "M" in original:
        return {"M": {k: _build(v, original["M"][k]) for k, v in node.items()}}
    return {"L": [_build(node[i], original["L"][i]) for i in sorted(node)]}
