"""JSON text from clients, checked without recursion.

Python's json module recurses once per nesting level, so a document nested ~1,000 levels deep raises
RecursionError (not ValueError) and used to answer 500. Lambda only checks that an Invoke payload is valid
JSON and passes it on unchanged, however deep: `check` does that, falling back to an iterative scan only
when the C parser runs out of stack (the warm invoke path pays nothing). Policy documents are parsed:
`loads_document` refuses nesting deeper than any policy needs, before parsing, with a ValueError that the
callers already turn into the service's own "failed to parse" error.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any filter policy, redrive policy or message structure AWS accepts (filter policies allow
# 5 levels of keys), and far below where json.loads or the code walking the result would recurse out.
MAX_DOCUMENT_DEPTH = 64

_TOKEN = re.compile(
    rb"""[ \t\n\r]*(?:
      (?P<open>[\[{])
    | (?P<close>[\]}])
    | (?P<comma>,)
    | (?P<colon>:)
    | (?P<string>"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")
    | (?P<scalar>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity)
    )""",
    re.VERBOSE,
)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_WHITESPACE = b" \t\n\r"


def check(text: bytes | str) -> None:
    """ValueError (or UnicodeDecodeError) unless `text` is one valid JSON value, at any nesting depth."""
    try:
        json.loads(text)
    except RecursionError:
        _scan(text.encode() if isinstance(text, str) else text)


def loads_document(text: str | bytes, max_depth: int = MAX_DOCUMENT_DEPTH) -> Any:
    """json.loads for a policy-like document; ValueError if it nests deeper than `max_depth`."""
    if depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text)


def depth(text: str | bytes) -> int:
    """How deep arrays and objects nest in `text` (brackets inside strings do not count); no recursion."""
    data = text.encode() if isinstance(text, str) else text
    if b"[" not in data and b"{" not in data:
        return 0
    deepest = level = 0
    for char in _STRING.sub(b"", data).translate(None, b'"\\,:0123456789.-+eEtrufalsn \t\n\r'):
        if char in b"[{":
            level += 1
            deepest = max(deepest, level)
        elif char in b"]}":
            level -= 1
    return deepest


def _scan(data: bytes) -> None:
    """Validate JSON with an explicit stack (only reached for documents too deep for json.loads)."""
    data.decode("utf-8")  # a UnicodeDecodeError, as json.loads raises for bytes that are not UTF-8
    stack = bytearray()  # the open brackets
    state = "value"  # value | value_or_close | key | key_or_close | colon | after
    pos = 0
    while True:
        match = _TOKEN.match(data, pos)
        if match is None:
            if state == "after" and not stack and not data[pos:].strip(_WHITESPACE):
                return
            raise ValueError(f"Invalid JSON at char {pos}")
        kind = match.lastgroup
        pos = match.end()
        if state in ("value", "value_or_close") and kind in ("string", "scalar"):
            state = "after"
        elif state in ("value", "value_or_close") and kind == "open":
            stack.append(data[match.end() - 1])
            state = "key_or_close" if data[match.end() - 1] == 0x7B else "value_or_close"
        elif state in ("key", "key_or_close") and kind == "string":
            state = "colon"
        elif state == "colon" and kind == "colon":
            state = "value"
        elif state == "after" and kind == "comma" and stack:
            state = "key" if stack[-1] == 0x7B else "value"
        elif (state == "after" or state.endswith("_or_close")) and kind == "close" and stack:
            if (stack.pop() == 0x5B) != (data[match.end() - 1] == 0x5D):
                raise ValueError(f"Mismatched bracket at char {match.start()}")
            state = "after"
        else:
            raise ValueError(f"Unexpected {kind} at char {match.start()}")
