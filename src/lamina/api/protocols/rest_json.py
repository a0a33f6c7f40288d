"""The rest-json protocol (Lambda): members from URI, query string, headers and a JSON body in;
status code, headers and a JSON (or raw payload) body out. Driven entirely by botocore's model.

Per operation the member plan is compiled once, so a warm Invoke pays a few dictionary lookups,
not a walk of the model.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from lamina.api.messages import Request, Response
from lamina.api.protocols.value_checks import PLAIN_KINDS, BadType, check_plain
from lamina.errors import InvalidRequestContent, ValidationFailed

JSON_TYPE = "application/json"
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


@dataclass(frozen=True)
class _InputPlan:
    uri: tuple[tuple[str, str, Shape], ...]  # (member, locationName, shape)
    query: tuple[tuple[str, str, Shape], ...]
    query_map: tuple[str, Shape] | None
    headers: tuple[tuple[str, str, Shape], ...]
    payload: tuple[str, Shape] | None
    body_members: bool


@dataclass(frozen=True)
class _OutputPlan:
    status_member: str | None
    headers: tuple[tuple[str, str, Shape], ...]
    payload: tuple[str, Shape] | None
    body: tuple[tuple[str, Shape], ...]


def _input_plan(op: OperationModel) -> _InputPlan:
    shape = op.input_shape
    uri: list[tuple[str, str, Shape]] = []
    query: list[tuple[str, str, Shape]] = []
    headers: list[tuple[str, str, Shape]] = []
    query_map = None
    payload = None
    body = False
    if shape is None:
        return _InputPlan((), (), None, (), None, False)
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        loc_name = member.serialization.get("name", name)
        if loc == "uri":
            uri.append((name, loc_name, member))
        elif loc == "querystring":
            if member.type_name == "map":
                query_map = (name, member)
            else:
                query.append((name, loc_name, member))
        elif loc == "header":
            headers.append((name, loc_name.lower(), member))
        elif name == payload_name:
            payload = (name, member)
        elif loc is None:
            body = True
    return _InputPlan(tuple(uri), tuple(query), query_map, tuple(headers), payload, body)


def _output_plan(op: OperationModel) -> _OutputPlan:
    shape = op.output_shape
    if shape is None:
        return _OutputPlan(None, (), None, ())
    status = None
    headers: list[tuple[str, str, Shape]] = []
    body: list[tuple[str, Shape]] = []
    payload = None
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        if loc == "statusCode":
            status = name
        elif loc == "header":
            headers.append((name, member.serialization.get("name", name), member))
        elif name == payload_name:
            payload = (name, member)
        elif loc is None:
            body.append((name, member))
    return _OutputPlan(status, tuple(headers), payload, tuple(body))


def _from_json(shape: Shape, value: Any, path: str) -> Any:
    """Checks a JSON value against its shape and converts blobs (base64) and timestamps."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise BadType(path, "String")
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: not a real string
                raise BadType(path, "String") from None
        return value
    if kind in PLAIN_KINDS:
        return check_plain(kind, value, path)
    if kind == "blob":
        if not isinstance(value, str):
            raise BadType(path, "Blob")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise BadType(path, "Base64 blob") from None
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise BadType(path, "Timestamp")
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise BadType(path, "Timestamp") from None
        return float(value)
    if kind == "structure":
        if not isinstance(value, dict):
            raise BadType(path, "Structure")
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if key in value:
                converted = _from_json(member, value[key], f"{path}.{name}" if path else name)
                if converted is not None:
                    out[name] = converted
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise BadType(path, "List")
        return [_from_json(shape.member, v, path) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise BadType(path, "Map")
        return {_from_json(shape.key, k, path): _from_json(shape.value, v, path) for k, v in value.items()}
    return value


def _from_text(shape: Shape, text: str, where: str) -> Any:
    """Converts a URI, query or header string to the member's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            if not _INTEGER.match(text):
                raise ValueError(text)
            return int(text)
        if kind in ("double", "float"):
            return float(text)
    except ValueError:
        raise ValidationFailed(
            f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy constraint: "
            f"Member must be a number"
        ) from None
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        try:
            return float(text)
        except ValueError:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return text


@cache
def _needs_walk(shape: Shape) -> bool:
    kind = shape.type_name
    if kind in ("blob", "timestamp"):
        return True
    if kind == "structure":  # nested members renamed on the wire (apigatewayv2: ApiId → apiId) need it too
        return any(m.serialization.get("name", k) != k or _needs_walk(m) for k, m in shape.members.items())
    if kind == "list":
        return _needs_walk(shape.member)
    if kind == "map":
        return _needs_walk(shape.value)
    return False


def _to_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "blob":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else value
    if kind == "timestamp":
        return value.timestamp() if isinstance(value, datetime) else value
    if kind == "structure":
        return {
            shape.members[k].serialization.get("name", k) if k in shape.members else k: (
                _to_json(shape.members[k], v) if k in shape.members and _needs_walk(shape.members[k]) else v
            )
            for k, v in value.items()
            if v is not None
        }
    if kind == "list" and _needs_walk(shape.member):
        return [_to_json(shape.member, v) for v in value]
    if kind == "map" and _needs_walk(shape.value):
        return {k: _to_json(shape.value, v) for k, v in value.items()}
    return value


class RestJsonProtocol:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}
        for name in model.operation_names:
            op = model.operation_model(name)
            self._inputs[name] = _input_plan(op)
            self._outputs[name] = _output_plan(op)

    # -- requests -------------------------------------------------------------------------------
    def parse(self, op: OperationModel, request: Request, uri_params: dict[str, str]) -> dict[str, Any]:
        plan = self._inputs[op.name]
        params: dict[str, Any] = {}
        for name, loc_name, shape in plan.uri:
            if loc_name in uri_params:
                params[name] = _from_text(shape, uri_params[loc_name], loc_name)
        if plan.query or plan.query_map:
            query = request.query
            for name, loc_name, shape in plan.query:
                values = query.get(loc_name)
                if values is None:
                    continue
                if shape.type_name == "list":
                    params[name] = [_from_text(shape.member, v, loc_name) for v in values]
                else:
                    params[name] = _from_text(shape, values[0], loc_name)
        headers = request.headers
        for name, loc_name, shape in plan.headers:
            value = headers.get(loc_name)
            if value is not None:
                params[name] = _from_text(shape, value, loc_name)
        if plan.payload is not None:
            name, shape = plan.payload
            if shape.type_name in ("blob", "string"):
                params[name] = request.body
            elif request.body:
                params[name] = self._json_body(shape, request.body)
        elif plan.body_members and request.body:
            params.update(self._json_body(op.input_shape, request.body))
        return params

    def _json_body(self, shape: Shape, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            reason = "nesting too deep" if isinstance(exc, RecursionError) else str(exc).split("; use sys.")[0]
            raise InvalidRequestContent(
                f"Could not parse request body into json: Could not parse payload into json: {reason}"
            ) from None
        if not isinstance(data, dict):
            raise InvalidRequestContent(
                "Could not parse request body into json: Could not parse payload into json: "
                "the top-level value must be an object"
            )
        try:
            result: dict[str, Any] = _from_json(shape, data, "")
        except BadType as bad:
            raise InvalidRequestContent(
                f"Could not parse request body into json: Could not deserialize value at '{bad.path}' as {bad.expected}"
            ) from None
        return result

    # -- responses ------------------------------------------------------------------------------
    def serialize(self, op: OperationModel, result: dict[str, Any] | None) -> Response:
        plan = self._outputs[op.name]
        status = op.http.get("responseCode", 200)
        headers: list[tuple[str, str]] = []
        if not result:
            if plan.body:
                return Response(status, [("Content-Type", JSON_TYPE)], b"{}")
            return Response(status, headers, b"")
        if plan.status_member is not None and plan.status_member in result:
            status = result[plan.status_member]
        for name, header, shape in plan.headers:
            value = result.get(name)
            if value is not None:
                if shape.serialization.get("jsonvalue"):
                    value = base64.b64encode(json.dumps(value).encode()).decode()
                headers.append((header, str(value)))
        if plan.payload is not None:
            name, shape = plan.payload
            value = result.get(name)
            if shape.type_name in ("blob", "string"):
                if value is not None and shape.type_name == "blob":
                    # Lambda's one blob payload (Invoke's result) is labelled as AWS labels it; an absent
                    # payload (Event's 202, DryRun's 204) goes without a Content-Type, as on AWS.
                    headers.append(("Content-Type", JSON_TYPE))
                body = value if isinstance(value, bytes) else (value or "").encode()
                return Response(status, headers, body)
            if shape.serialization.get("eventstream"):  # already encoded frames, sent as they come
                return Response(status, headers, b"", stream=value)
            headers.append(("Content-Type", JSON_TYPE))
            return Response(status, headers, json.dumps(_to_json(shape, value or {})).encode())
        if not plan.body:
            return Response(status, headers, b"")
        out = {}
        for name, shape in plan.body:
            value = result.get(name)
            if value is not None:
                out[shape.serialization.get("name", name)] = _to_json(shape, value) if _needs_walk(shape) else value
        headers.append(("Content-Type", JSON_TYPE))
        return Response(status, headers, json.dumps(out, separators=(",", ":")).encode())


def error_response(code: str, status: int, message: str, fields: dict[str, object], shape: Shape | None) -> Response:
    """AWS's rest-json error: code in `x-amzn-ErrorType`, a JSON body even for 5xx, the message under
    the member name the error shape uses (`message` or `Message`), and `Type` where the shape has it."""
    body: dict[str, object] = {}
    key = "message"
    if shape is not None:
        members = shape.members
        if "Message" in members and "message" not in members:
            key = "Message"
        if "Type" in members and "Type" not in fields:
            body["Type"] = "User" if status < 500 else "Service"
    body[key] = message or None  # AWS sends null, not "", for errors without a message
    body.update(fields)
    if body.get("Type", "") is None:  # a few errors carry no Type on AWS: raised with Type=None
        del body["Type"]
    headers = [("x-amzn-ErrorType", code), ("Content-Type", JSON_TYPE)]
    retry_after = fields.get("retryAfterSeconds")
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return Response(status, headers, json.dumps(body).encode())
