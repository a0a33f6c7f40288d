"""Type checks shared by the document protocols (JSON, rest-json, Smithy RPC v2 CBOR).

A request member whose value has the wrong type is a client error with the member's path; numbers and booleans
are checked the same way whatever the encoding, only strings, blobs and timestamps differ per protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from lamina.errors import InvalidRequestContent

PLAIN_KINDS = frozenset({"integer", "long", "boolean", "double", "float"})


class BadType(Exception):
    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path)
        self.path = path
        self.expected = expected


def check_plain(kind: str, value: Any, path: str) -> Any:
    """A number or boolean member's value, checked against its kind (one of PLAIN_KINDS)."""
    if kind == "boolean":
        if not isinstance(value, bool):
            raise BadType(path, "Boolean")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise BadType(path, "Integer" if kind == "integer" else "Long")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadType(path, "Double")
    return float(value)


def request_members(
    convert: Callable[[Shape, Any, str], Any], shape: Shape, data: Any, container: str
) -> dict[str, Any]:
    """The decoded request `data` checked and converted by `convert`; wrong types → InvalidRequestContent."""
    if not isinstance(data, dict):
        raise InvalidRequestContent(f"The request body must be a {container}.")
    try:
        result: dict[str, Any] = convert(shape, data, "")
    except BadType as bad:
        raise InvalidRequestContent(f"Value for parameter {bad.path} is invalid: expected {bad.expected}.") from None
    return result
