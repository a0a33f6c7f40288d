"""The query protocol (SNS; SQS before 2023; IAM, STS): every operation is `POST /` (or GET) with a form-encoded
body `Action=Publish&Version=2010-03-31&…`, the answer is XML.

Requests, as botocore's QuerySerializer writes them: structure members `Prefix.Member`, non-flattened lists
`Prefix.member.N` (an empty list is sent as `Prefix=`), maps `Prefix.entry.N.key` / `.value` (the key and value
names follow the shape's locationName: SNS message attributes are `entry.N.Name` / `entry.N.Value.DataType`),
blobs base64, booleans `true`/`false`.

Responses, as botocore's QueryParser reads them: `<OpResponse xmlns=…><OpResult>…</OpResult>
<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>`, lists as `<member>` elements, maps as
`<entry><key/><value/></entry>`. Errors: `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code>
<Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.model import OperationModel, ServiceModel, Shape

from lamina.api.messages import Request, Response
from lamina.errors import InvalidRequestContent

_CONTENT_TYPE = "text/xml"


class QueryProtocol:
    """`error_detail`: errors carry an empty `<Detail/>` (SQS's do), except those of the operations in
    `no_detail` (SQS's DeleteMessageBatch and ChangeMessageVisibilityBatch). `declaration`: answers start with
    `<?xml version="1.0"?>` (SQS's do). `path_member`: a member a request may give
    by posting to its path instead (SQS's QueueUrl: `POST /<account>/<queue>`). `messages`: error messages this
    protocol words differently, by error code (SQS's query API says "... for this wsdl version.")."""

    def __init__(
        self,
        model: ServiceModel,
        *,
        error_detail: bool = False,
        declaration: bool = False,
        no_detail: frozenset[str] = frozenset(),
        path_member: str | None = None,
        messages: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.namespace: str = model.metadata.get("xmlNamespace", "")
        self.version: str = model.metadata.get("apiVersion", "")
        self._ops = {name: model.operation_model(name) for name in model.operation_names}
        self._error_detail = error_detail
        self._declaration = '<?xml version="1.0"?>' if declaration else ""
        self._no_detail = no_detail
        self._path_member = path_member
        self._messages = dict(messages or {})

    def _form(self, request: Request) -> dict[str, str]:
        text = request.body.decode("utf-8", "replace") if request.body else ""
        if request.query_string:
            text = request.query_string + ("&" + text if text else "")
        pairs = parse_qs(text, keep_blank_values=True)
        return {k: v[0] for k, v in pairs.items()}

    def owns(self, request: Request) -> bool:
        return "Action" in self._form(request)

    def find(self, request: Request) -> OperationModel | None:
        """The operation named by `Action`, unless `Version` names another API (SNS and SQS share names
        such as AddPermission)."""
        form = self._form(request)
        version = form.get("Version")
        if version is not None and version != self.version:
            return None
        return self._ops.get(form.get("Action", ""))

    def speaks(self, request: Request) -> bool:
        """Whether the request's `Version` is this API's."""
        return self._form(request).get("Version") == self.version

    def action(self, request: Request) -> str:
        return self._form(request).get("Action", "")

    # -- requests -------------------------------------------------------------------------------
    def parse(self, op: OperationModel, request: Request, uri_params: dict[str, str]) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        tree: dict[str, Any] = {}
        for key, value in self._form(request).items():
            if key in ("Action", "Version"):
                continue
            node = tree
            parts = key.split(".")
            for part in parts[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {"": child} if child is not None else {}
                    node[part] = child
                node = child
            last = parts[-1]
            if isinstance(node.get(last), dict):
                node[last][""] = value
            else:
                node[last] = value
        result: dict[str, Any] = _structure(shape, tree)
        member = self._path_member
        if member is not None and member in shape.members and member not in result:
            parts = request.path.strip("/").split("/")
            if len(parts) == 2 and all(parts):
                result[member] = "/" + "/".join(parts)
        return result

    # -- responses ------------------------------------------------------------------------------
    def serialize(self, op: OperationModel, result: dict[str, Any] | None, request_id: str = "") -> Response:
        name = op.name
        shape = op.output_shape
        inner = ""
        if shape is not None and result:
            inner = "".join(_member_xml(shape, result))
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        body = f'{self._declaration}<{name}Response xmlns="{self.namespace}">'
        if wrapper:
            body += f"<{wrapper}>{inner}</{wrapper}>"
        body += f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
        return Response(200, [("Content-Type", _CONTENT_TYPE)], body.encode())

    def error_response(self, code: str, status: int, message: str, request_id: str, operation: str = "") -> Response:
        kind = "Sender" if status < 500 else "Receiver"
        message = self._messages.get(code, message)
        detail = "<Detail/>" if self._error_detail and operation not in self._no_detail else ""
        body = (
            f'{self._declaration}<ErrorResponse xmlns="{self.namespace}">'
            f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message>{detail}</Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
        return Response(status, [("Content-Type", _CONTENT_TYPE)], body.encode())


# -- form → params -------------------------------------------------------------------------------
def _structure(shape: Shape, node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(node, dict):
        return out
    for name, member in shape.members.items():
        key = _wire_name(member, name)
        if key in node:
            out[name] = _value(member, node[key])
        elif member.type_name == "list" and node.get(member.serialization.get("name", name)) == "":
            out[name] = []  # botocore sends an empty list as `Member=`, under the member's own name
    return out


def _wire_name(member: Shape, name: str) -> str:
    """A member's name on the wire, as botocore's serializer and parser name it: a flattened list takes its
    members' element name (SQS's `AttributeName.1`, `<QueueUrl>`), else the member's locationName."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        element = member.member.serialization.get("name")
        if element:
            return str(element)
    return str(member.serialization.get("name", name))


def _value(shape: Shape, node: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, node)
    if kind == "list":
        if not isinstance(node, dict):
            return []
        if not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
            if not isinstance(node, dict):
                return []
        return [_value(shape.member, node[i]) for i in sorted((k for k in node if k.isdigit()), key=int)]
    if kind == "map":
        if not isinstance(node, dict):
            return {}
        if not shape.serialization.get("flattened"):
            node = node.get("entry", {})
            if not isinstance(node, dict):
                return {}
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out: dict[str, Any] = {}
        for i in sorted((k for k in node if k.isdigit()), key=int):
            entry = node[i]
            if isinstance(entry, dict) and key_name in entry:
                out[str(entry[key_name])] = _value(shape.value, entry.get(value_name, {}))
        return out
    if isinstance(node, dict):
        node = node.get("", "")
    text = str(node)
    if kind == "boolean":
        return text.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise InvalidRequestContent(f"Value {text!r} is not a valid integer.") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise InvalidRequestContent(f"Value {text!r} is not a valid number.") from None
    if kind == "blob":
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            raise InvalidRequestContent("Blob value is not valid base64.") from None
    return text


# -- result → XML --------------------------------------------------------------------------------
def _member_xml(shape: Shape, result: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        tag = _wire_name(member, name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            parts.extend(f"<{tag}>{_xml(member.member, v)}</{tag}>" for v in value)
        elif member.type_name == "map" and member.serialization.get("flattened"):
            key_tag = member.key.serialization.get("name", "key")
            value_tag = member.value.serialization.get("name", "value")
            parts.extend(
                f"<{tag}><{key_tag}>{escape(str(k))}</{key_tag}>"
                f"<{value_tag}>{_xml(member.value, v)}</{value_tag}></{tag}>"
                for k, v in value.items()
            )
        else:
            parts.append(f"<{tag}>{_xml(member, value)}</{tag}>")
    return parts


def _xml(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return "".join(_member_xml(shape, value))
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_xml(shape.member, v)}</{tag}>" for v in value)
    if kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        return "".join(
            f"<entry><{key_tag}>{escape(str(k))}</{key_tag}><{value_tag}>{_xml(shape.value, v)}</{value_tag}></entry>"
            for k, v in value.items()
        )
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode()
    if kind == "timestamp":
        if isinstance(value, int | float):
            value = datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return escape(str(value))
    return _text(str(value))


def _text(value: str) -> str:
    """XML text, with a carriage return as a character reference: a parser turns a literal one into a newline,
    and SQS bodies must come back byte for byte (AWS writes `&#xD;` too)."""
    return escape(value, _CR)


_CR = {"\r": "&#xD;"}
