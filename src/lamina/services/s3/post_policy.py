"""S3 POST uploads (browser forms, boto3's generate_presigned_post): the form's fields, read as the body streams in
(python-multipart), and the POST policy they carry, checked as AWS checks it.

The policy is base64 JSON `{"expiration": ISO time, "conditions": [...]}`. Each condition is `{"field": value}`
(exact), `["eq", "$field", value]`, `["starts-with", "$field", prefix]` or `["content-length-range", min, max]`;
every form field except policy, the signature fields, file and `x-ignore-*` must be named by a condition. A failure
is AWS's AccessDenied "Invalid according to Policy: ..."; a size out of range EntityTooSmall/EntityTooLarge. As for
presigned URLs, the signature itself is not verified (Lamina accepts any credentials).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from lamina.api.protocols.rest_xml import parse_timestamp
from lamina.services.s3.faults import S3Error, invalid_argument

MAX_FIELDS_BYTES = 20 * 1024  # what AWS takes before the file
# Fields no condition needs to name.
_UNCHECKED = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"})


def _policy_denied(reason: str) -> S3Error:
    return S3Error("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def malformed_post() -> S3Error:
    return S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")


@dataclass
class Form:
    """The fields before the file (lower-cased names, as S3 compares them) and the file part's name."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None


class FormReader:
    """Feeds a multipart/form-data body to the parser as it arrives: `form()` reads up to the file's headers,
    `file()` then yields the file's bytes (what follows the file is read and dropped, as AWS ignores it)."""

    def __init__(self, source: bytes | AsyncIterator[bytes], content_type: str) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise malformed_post()
        self._source = source
        self._chunks = _chunks(source)
        self._form = Form()
        self._name = b""
        self._filename: str | None = None
        self._header = b""
        self._headers: dict[bytes, bytes] = {}
        self._value = bytearray()
        self._in_file = False
        self._file_done = False
        self._file_data: list[bytes] = []
        self._seen = 0
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    # -- parser callbacks -----------------------------------------------------------------------
    def _begin(self) -> None:
        self._headers, self._header, self._value = {}, b"", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        name = self._header.lower()
        self._headers[name] = self._headers.get(name, b"") + data[start:end]

    def _header_end(self) -> None:
        self._header = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").lower()
        if self._name == b"file" and not self._file_done:
            self._in_file = True
            self._form.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._file_data.append(bytes(data[start:end]))
            return
        if self._file_done:
            return  # fields after the file are ignored
        self._seen += end - start
        if self._seen > MAX_FIELDS_BYTES:
            raise S3Error("MaxPostPreDataLengthExceededError",
                          "Your POST request fields preceeding the upload file was too large.", 400)  # fmt: skip
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file, self._file_done = False, True
        elif not self._file_done and self._name:
            self._form.fields.setdefault(self._name.decode("utf-8", "replace"), self._value.decode("utf-8", "replace"))

    def _end(self) -> None:
        self._ended = True

    # -- reading --------------------------------------------------------------------------------
    async def _feed(self) -> bool:
        """Feeds the next chunk; False at the body's end."""
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            if not self._ended:
                raise malformed_post() from None
            return False
        try:
            self._parser.write(chunk)
        except S3Error:
            raise
        except Exception:  # the parser's own errors: not well-formed multipart
            raise malformed_post() from None
        return True

    async def form(self) -> Form:
        while not (self._in_file or self._file_done):
            if not await self._feed():
                break
        return self._form

    async def file(self) -> AsyncIterator[bytes]:
        while True:
            while self._file_data:
                yield self._file_data.pop(0)
            if self._file_done or self._ended:
                break
            if not await self._feed():
                break
        while self._file_data:
            yield self._file_data.pop(0)
        await self.drain()

    async def drain(self) -> None:
        """Reads what is left of the body (so the connection can carry the answer and the next request)."""
        async for _ in self._chunks:
            pass


async def _chunks(source: bytes | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(source, bytes | bytearray):
        if source:
            yield bytes(source)
        return
    async for piece in source:
        yield piece


# -- the policy ---------------------------------------------------------------------------------
@dataclass
class Policy:
    min_size: int = 0
    max_size: int | None = None


def _shown(condition: Any) -> str:
    """A condition as AWS's message quotes it: `["eq", "$key", "a"]`."""
    return json.dumps(condition, separators=(", ", ": "))


def check_policy(text: str, fields: dict[str, str], bucket: str, now: float) -> Policy:
    """Checks the form's fields against the policy; the size range the file must then fall in."""
    try:
        document = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400) from None
    if not isinstance(document, dict):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400)
    if "expiration" not in document:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.", 400)
    if "conditions" not in document or not isinstance(document["conditions"], list):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.", 400)
    expires = parse_timestamp(str(document["expiration"]))
    if expires is None:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: "
                      f"'{document['expiration']}'", 400)  # fmt: skip
    if now > expires:
        raise _policy_denied("Policy expired.")
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    policy = Policy()
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            for name, wanted in condition.items():
                key = name.lower()
                named.add(key)
                if values.get(key) != wanted:
                    raise _policy_denied(f"Policy Condition failed: {_shown(['eq', '$' + name, wanted])}")
            continue
        if not isinstance(condition, list) or not condition:
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid Condition.", 400)
        operator = str(condition[0]).lower()
        if operator == "content-length-range" and len(condition) == 3:
            try:
                policy.min_size, policy.max_size = int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid content-length-range.", 400) from None
            continue
        if operator not in ("eq", "starts-with") or len(condition) != 3 or not str(condition[1]).startswith("$"):
            raise S3Error("InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {_shown(condition)}", 400)
        key = str(condition[1])[1:].lower()
        named.add(key)
        have, wanted = values.get(key), str(condition[2])
        ok = have == wanted if operator == "eq" else have is not None and have.startswith(wanted)
        if not ok:
            raise _policy_denied(f"Policy Condition failed: {_shown(condition)}")
    extra = [n for n in fields if n not in named and n not in _UNCHECKED and not n.startswith("x-ignore-")]
    if extra:
        raise _policy_denied("Extra input fields: " + ", ".join(extra))
    return policy


async def within(data: AsyncIterator[bytes], policy: Policy) -> AsyncIterator[bytes]:
    """The file's bytes, stopped as soon as they pass the policy's maximum; too few at the end is refused too."""
    size = 0
    async for piece in data:
        size += len(piece)
        if policy.max_size is not None and size > policy.max_size:
            raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                          ProposedSize=size, MaxSizeAllowed=policy.max_size)  # fmt: skip
        yield piece
    if size < policy.min_size:
        raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", 400,
                      ProposedSize=size, MinSizeAllowed=policy.min_size)  # fmt: skip


def key_of(form: Form) -> str:
    key = form.fields.get("key")
    if key is None:
        raise invalid_argument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
            "key",
            "",
        )
    return key.replace("${filename}", form.filename or "")
