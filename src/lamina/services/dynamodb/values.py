"""DynamoDB's attribute values: the type rules AWS enforces on input, sizes, ordering and storage form.

An attribute value is kept as the wire gives it after parsing (`{"S": "x"}`, `{"N": "1.5"}`, `{"B": b"..."}`,
`{"SS": [...]}`, `{"M": {...}}`, `{"L": [...]}`, `{"NULL": True}`, `{"BOOL": False}`), with numbers normalised
the way DynamoDB returns them ("01.50" is stored and returned as "1.5"). Items are maps of name to value.
"""

from __future__ import annotations

import base64
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from lamina.errors import ValidationFailed

Value = dict[str, Any]
Item = dict[str, Value]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
_SET_WORDS = {"SS": "string", "NS": "number", "BS": "binary"}
MAX_ITEM_BYTES = 400 * 1024
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
_CONTEXT = Context(prec=60)
_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
_MIN = Decimal("1E-130")


def invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message)


def kind(value: Value) -> str:
    """The one type a value carries (checked on input, so exactly one)."""
    for name in value:
        return name
    raise invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")


def number(text: str) -> str:
    """A number in DynamoDB's normal form, or AWS's ValidationException for what it refuses."""
    try:
        parsed = Decimal(text.strip() if text.strip() == text else "x")
    except InvalidOperation:
        raise invalid("A value provided cannot be converted into a number") from None
    if not parsed.is_finite():
        raise invalid("A value provided cannot be converted into a number")
    if parsed == 0:
        return "0"
    digits = parsed.normalize(_CONTEXT).as_tuple().digits
    if len(digits) > 38:
        raise invalid("Attempting to store more than 38 significant digits in a Number")
    if abs(parsed) > _MAX:
        raise invalid("Number overflow. Attempting to store a number with magnitude larger than supported range")
    if abs(parsed) < _MIN:
        raise invalid("Number underflow. Attempting to store a number with magnitude smaller than supported range")
    return format(parsed.normalize(_CONTEXT), "f")


def check_value(value: Any) -> Value:
    """Validates one attribute value from a request and returns it normalised (numbers, nested values)."""
    if not isinstance(value, dict) or not value:
        raise invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if len(value) > 1:
        raise invalid(
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes"
        )
    ((name, inner),) = value.items()
    if name == "N":
        return {"N": number(inner)}
    if name in SET_TYPES:
        if not inner:
            raise invalid(f"One or more parameter values were invalid: An {_SET_WORDS[name]} set  may not be empty")
        members = [number(m) for m in inner] if name == "NS" else list(inner)
        seen = {Decimal(m) for m in members} if name == "NS" else set(members)
        if len(seen) != len(members):
            shown = ", ".join(str(m) if not isinstance(m, bytes) else base64.b64encode(m).decode() for m in inner)
            raise invalid(f"One or more parameter values were invalid: Input collection [{shown}] contains duplicates.")
        return {name: members}
    if name == "M":
        return {"M": {k: check_value(v) for k, v in inner.items()}}
    if name == "L":
        return {"L": [check_value(v) for v in inner]}
    if name == "NULL" and inner is not True:
        raise invalid(
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        )
    return {name: inner}


def check_item(item: Any) -> Item:
    return {name: check_value(value) for name, value in item.items()}


# -- sizes (AWS's item size accounting) ---------------------------------------------------------
def size(value: Value) -> int:
    ((name, inner),) = value.items()
    if name == "S":
        return len(inner.encode())
    if name == "N":
        return _number_size(inner)
    if name == "B":
        return len(inner)
    if name in ("NULL", "BOOL"):
        return 1
    if name == "SS":
        return sum(len(m.encode()) for m in inner)
    if name == "NS":
        return sum(_number_size(m) for m in inner)
    if name == "BS":
        return sum(len(m) for m in inner)
    if name == "L":
        return 3 + sum(size(v) + 1 for v in inner)
    return 3 + sum(len(k.encode()) + size(v) + 1 for k, v in inner.items())


def _number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + size(value) for name, value in item.items())


# -- ordering and equality ----------------------------------------------------------------------
def sort_key(value: Value) -> Any:
    """What keys sort by: numbers by value, strings by their UTF-8 bytes, binary by bytes."""
    ((name, inner),) = value.items()
    if name == "N":
        return Decimal(inner)
    if name == "S":
        return inner.encode()
    return bytes(inner)


def equal(a: Value, b: Value) -> bool:
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return False
    if ka == "N":
        return Decimal(a["N"]) == Decimal(b["N"])
    if ka == "NS":
        return {Decimal(m) for m in a["NS"]} == {Decimal(m) for m in b["NS"]}
    if ka in ("SS", "BS"):
        return set(a[ka]) == set(b[kb])
    if ka == "M":
        return a["M"].keys() == b["M"].keys() and all(equal(v, b["M"][k]) for k, v in a["M"].items())
    if ka == "L":
        return len(a["L"]) == len(b["L"]) and all(equal(x, y) for x, y in zip(a["L"], b["L"], strict=True))
    return bool(a[ka] == b[kb])


def key_text(value: Value) -> str:
    """A key value as one string (the store's primary key columns and the in-memory indexes)."""
    ((name, inner),) = value.items()
    if name == "B":
        return "B:" + base64.b64encode(inner).decode()
    return f"{name}:{inner}"


# -- storage form (JSON: binary as base64) ------------------------------------------------------
def to_json(value: Value) -> Any:
    ((name, inner),) = value.items()
    if name == "B":
        return {"B": base64.b64encode(inner).decode()}
    if name == "BS":
        return {"BS": [base64.b64encode(m).decode() for m in inner]}
    if name == "M":
        return {"M": {k: to_json(v) for k, v in inner.items()}}
    if name == "L":
        return {"L": [to_json(v) for v in inner]}
    return value


def from_json(value: Any) -> Value:
    ((name, inner),) = value.items()
    if name == "B":
        return {"B": base64.b64decode(inner)}
    if name == "BS":
        return {"BS": [base64.b64decode(m) for m in inner]}
    if name == "M":
        return {"M": {k: from_json(v) for k, v in inner.items()}}
    if name == "L":
        return {"L": [from_json(v) for v in inner]}
    return dict(value)


def item_to_json(item: Item) -> dict[str, Any]:
    return {k: to_json(v) for k, v in item.items()}


def item_from_json(body: dict[str, Any]) -> Item:
    return {k: from_json(v) for k, v in body.items()}


def render(value: Value) -> str:
    """A value as AWS prints it in messages: `{N:5}`, `{S:abc}`."""
    ((name, inner),) = value.items()
    return "{" + f"{name}:{inner}" + "}"
