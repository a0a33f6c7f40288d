"""The Smithy RPC v2 CBOR protocol (botocore's `smithy-rpc-v2-cbor`: CloudWatch since botocore 1.40): every
operation is `POST /service/<targetPrefix>/operation/<Operation>` with header `smithy-protocol: rpc-v2-cbor`, a
CBOR map in and a CBOR map out (`Content-Type: application/cbor`), timestamps as tag 1 (epoch seconds).

Errors are a CBOR map with `__type` (`com.amazonaws.cloudwatch#InvalidParameterValueException`) and `message`;
services that were query services before (metadata `awsQueryCompatible`) also send the legacy code in
`x-amzn-query-error: <code>;Sender`, which botocore reports as `Error.Code`.

Parameters come out as the json protocol gives them to providers: timestamps as float epoch seconds, blobs as
bytes; a provider's timestamps (floats or datetimes) go back as tag 1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel, Shape

from lamina.api.messages import Request, Response
from lamina.api.protocols.value_checks import PLAIN_KINDS, BadType, check_plain, request_members
from lamina.errors import InvalidRequestContent

CONTENT_TYPE = "application/cbor"
_HEADERS = (("Content-Type", CONTENT_TYPE), ("smithy-protocol", "rpc-v2-cbor"))


class RpcV2CborProtocol:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.target_prefix: str = model.metadata.get("targetPrefix", "")
        self.query_compatible = "awsQueryCompatible" in model.metadata
        self._namespace = f"com.amazonaws.{model.service_name}#"
        self._ops = {name: model.operation_model(name) for name in model.operation_names}
        self._prefix = f"/service/{self.target_prefix}/operation/"

    @staticmethod
    def speaks(request: Request) -> bool:
        """Whether the request is in this protocol (the header every RPC v2 client sends)."""
        return request.headers.get("smithy-protocol", "") == "rpc-v2-cbor"

    def owns(self, request: Request) -> bool:
        return self.speaks(request) and request.path.startswith(self._prefix)

    def find(self, request: Request) -> OperationModel | None:
        if request.method != "POST" or not request.path.startswith(self._prefix):
            return None
        return self._ops.get(request.path[len(self._prefix) :])

    # -- requests -------------------------------------------------------------------------------
    def parse(self, op: OperationModel, request: Request, uri_params: dict[str, str]) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None or not request.body:
            return {}
        try:
            data = cbor2.loads(request.body)
        except (cbor2.CBORDecodeError, ValueError, RecursionError, EOFError):
            raise InvalidRequestContent("The request body is not valid CBOR.") from None
        return request_members(_from_cbor, shape, data, "CBOR map")

    # -- responses ------------------------------------------------------------------------------
    def serialize(self, op: OperationModel, result: dict[str, Any] | None) -> Response:
        shape = op.output_shape
        body: Any = {} if not result or shape is None else _to_cbor(shape, result)
        return Response(200, list(_HEADERS), cbor2.dumps(body))

    def error_response(
        self, code: str, status: int, message: str, query_code: str | None, fields: dict[str, object] | None = None
    ) -> Response:
        headers = list(_HEADERS)
        if query_code is not None and self.query_compatible:
            headers.append(("x-amzn-query-error", f"{query_code};{'Sender' if status < 500 else 'Receiver'}"))
        body = {"__type": self._namespace + code, "message": message, **(fields or {})}
        return Response(status, headers, cbor2.dumps(body))


def _from_cbor(shape: Shape, value: Any, path: str) -> Any:
    """Checks a decoded CBOR value against its shape; timestamps become float epoch seconds."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise BadType(path, "String")
        return value
    if kind in PLAIN_KINDS:
        return check_plain(kind, value, path)
    if kind == "blob":
        if not isinstance(value, bytes | bytearray):
            raise BadType(path, "Blob")
        return bytes(value)
    if kind == "timestamp":
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, cbor2.CBORTag) and value.tag == 1:
            value = value.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadType(path, "Timestamp")
        return float(value)
    if kind == "structure":
        if not isinstance(value, dict):
            raise BadType(path, "Structure")
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name in value:
                converted = _from_cbor(member, value[name], f"{path}.{name}" if path else name)
                if converted is not None:
                    out[name] = converted
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise BadType(path, "List")
        return [_from_cbor(shape.member, v, path) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise BadType(path, "Map")
        return {_from_cbor(shape.key, k, path): _from_cbor(shape.value, v, path) for k, v in value.items()}
    return value


def _to_cbor(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "timestamp":
        if isinstance(value, datetime):
            return cbor2.CBORTag(1, value.timestamp())
        return cbor2.CBORTag(1, value)
    if kind in ("double", "float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "structure":
        return {k: _to_cbor(shape.members[k], v) for k, v in value.items() if v is not None and k in shape.members}
    if kind == "list":
        return [_to_cbor(shape.member, v) for v in value]
    if kind == "map":
        return {k: _to_cbor(shape.value, v) for k, v in value.items()}
    return value
