"""AWS's event-stream framing (`application/vnd.amazon.eventstream`), the encoding side.

botocore only decodes it (botocore/eventstream.py), and no package on PyPI encodes it without a C runtime,
so this is the small encoder. One message is:

    prelude:  total length (uint32) | headers length (uint32) | CRC32 of those 8 bytes (uint32)
    headers:  per header: name length (uint8) | name (utf-8) | value type (uint8, 7 = string)
              | value length (uint16) | value (utf-8)
    payload:  raw bytes
    trailer:  CRC32 of everything before it (uint32)

All integers are big-endian; the CRC is zlib's CRC32 (what botocore checks). Only string headers are
written: every header an event-stream response of the Lambda API carries (`:event-type`,
`:message-type`, `:content-type`) is a string. botocore refuses messages over 16 MiB and headers over
128 KiB, so callers keep payloads below `MAX_PAYLOAD`.
"""

from __future__ import annotations

import struct
import zlib

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
MAX_PAYLOAD = 16 * 1024 * 1024 - 64 * 1024  # botocore's message limit, with room for the headers


def encode_headers(headers: tuple[tuple[str, str], ...]) -> bytes:
    out = bytearray()
    for name, value in headers:
        raw_name = name.encode()
        raw_value = value.encode()
        out += bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: bytes, payload: bytes) -> bytes:
    """One message from already encoded headers (`encode_headers`, so a fixed set is encoded once)."""
    prelude = _PRELUDE.pack(16 + len(headers) + len(payload), len(headers))
    prelude_crc = _CRC.pack(zlib.crc32(prelude))
    body = prelude + prelude_crc + headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def event_headers(event_type: str, content_type: str) -> bytes:
    """The headers of an event message (as opposed to an exception or error message)."""
    return encode_headers(((":event-type", event_type), (":content-type", content_type), (":message-type", "event")))
