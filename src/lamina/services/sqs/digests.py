"""The MD5 digests SQS returns, computed exactly as AWS documents them.

MD5OfMessageAttributes (and MD5OfMessageSystemAttributes) hash the attributes sorted by name; each
contributes its name, its data type (both as 4-byte big-endian length + UTF-8 bytes), one transport byte
(1 for String and Number values, 2 for Binary) and the value (length + bytes).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any


def md5_text(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    buf = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        buf += _field(name.encode())
        buf += _field(str(value.get("DataType", "")).encode())
        if value.get("StringValue") is not None:
            buf += b"\x01" + _field(str(value["StringValue"]).encode())
        elif value.get("BinaryValue") is not None:
            binary = value["BinaryValue"]
            buf += b"\x02" + _field(binary if isinstance(binary, bytes) else str(binary).encode())
    return hashlib.md5(bytes(buf), usedforsecurity=False).hexdigest()
