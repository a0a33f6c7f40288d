"""The event-stream encoder, read back by botocore's own decoder (what boto3 uses on the response)."""

from __future__ import annotations

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from lamina.api.protocols.event_stream import encode_message, event_headers


def _decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_messages_decode_with_botocore() -> None:
    chunk = encode_message(event_headers("PayloadChunk", "application/octet-stream"), b"hello \x00 world")
    done = encode_message(event_headers("InvokeComplete", "application/json"), b"{}")
    empty = encode_message(event_headers("PayloadChunk", "application/octet-stream"), b"")
    messages = _decode(chunk + empty + done)
    assert messages == [
        ({":event-type": "PayloadChunk", ":content-type": "application/octet-stream", ":message-type": "event"},
         b"hello \x00 world"),
        ({":event-type": "PayloadChunk", ":content-type": "application/octet-stream", ":message-type": "event"}, b""),
        ({":event-type": "InvokeComplete", ":content-type": "application/json", ":message-type": "event"}, b"{}"),
    ]  # fmt: skip


def test_a_message_split_anywhere_still_decodes() -> None:
    data = encode_message(event_headers("PayloadChunk", "application/octet-stream"), bytes(range(256)) * 40)
    buffer = EventStreamBuffer()
    payloads = []
    for i in range(0, len(data), 7):
        buffer.add_data(data[i : i + 7])
        payloads += [m.payload for m in buffer]
    assert payloads == [bytes(range(256)) * 40]


def test_the_checksums_are_checked() -> None:
    data = bytearray(encode_message(event_headers("PayloadChunk", "application/octet-stream"), b"abc"))
    data[-5] ^= 1  # a payload byte
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(data))
