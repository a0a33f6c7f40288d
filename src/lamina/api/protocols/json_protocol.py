"""The json protocol (awsJson1_0 / 1_1: SQS, EventBridge, CloudWatch Logs, Kinesis): every operation is
`POST /` with `X-Amz-Target: <targetPrefix>.<Operation>`, a JSON body in and a JSON body out.

Errors carry their shape in `__type` (`com.amazonaws.sqs#QueueDoesNotExist`) and, for services that were
query services before (metadata `awsQueryCompatible`), the legacy code in `x-amzn-query-error:
<code>;Sender`, which botocore reports as `Error.Code` (the shape name becomes `Error.QueryErrorCode`).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from lamina.api.messages import Request, Response
from lamina.api.protocols.rest_json import _from_json, _needs_walk, _to_json
from lamina.api.protocols.value_checks import request_members
from lamina.errors import InvalidRequestContent


class JsonProtocol:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        version = model.metadata.get("jsonVersion", "1.0")
        self.content_type = f"application/x-amz-json-{version}"
        self.target_prefix: str = model.metadata.get("targetPrefix", "")
        self.query_compatible = "awsQueryCompatible" in model.metadata
        self._namespace = f"com.amazonaws.{model.metadata.get('endpointPrefix', model.service_name)}#"
        self._ops = {name: model.operation_model(name) for name in model.operation_names}
        # Operations whose answer is an event stream (CloudWatch Logs' StartLiveTail): output member name.
        self._streams = {
            name: member
            for name, op in self._ops.items()
            if op.output_shape is not None
            for member, shape in op.output_shape.members.items()
            if shape.serialization.get("eventstream")
        }

    def owns(self, request: Request) -> bool:
        """Whether `X-Amz-Target` names this service (an unknown operation of it is still its error)."""
        return request.headers.get("x-amz-target", "").rpartition(".")[0] == self.target_prefix

    def find(self, request: Request) -> OperationModel | None:
        """The operation named by `X-Amz-Target`, when it is addressed to this service."""
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.rpartition(".")
        if prefix != self.target_prefix or request.method != "POST":
            return None
        return self._ops.get(name)

    # -- requests -------------------------------------------------------------------------------
    def parse(self, op: OperationModel, request: Request, uri_params: dict[str, str]) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None or not request.body:
            return {}
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidRequestContent("The request body is not valid JSON.") from None
        return request_members(_from_json, shape, data, "JSON object")

    # -- responses ------------------------------------------------------------------------------
    def serialize(self, op: OperationModel, result: dict[str, Any] | None) -> Response:
        headers = [("Content-Type", self.content_type)]
        shape = op.output_shape
        if not result or shape is None:
            return Response(200, headers, b"{}")
        stream = self._streams.get(op.name)
        if stream is not None:  # already encoded frames (an initial-response first), sent as they come
            return Response(200, [("Content-Type", "application/vnd.amazon.eventstream")], b"", stream=result[stream])
        body = _to_json(shape, result) if _needs_walk(shape) else _plain(shape.members, result)
        return Response(200, headers, json.dumps(body, separators=(",", ":")).encode())

    def error_response(
        self, code: str, status: int, message: str, query_code: str | None, fields: dict[str, object] | None = None
    ) -> Response:
        """`fields` are extra body members some errors carry (DynamoDB's `Item`, `CancellationReasons`)."""
        headers = [("Content-Type", self.content_type)]
        if query_code is not None and self.query_compatible:
            headers.append(("x-amzn-query-error", f"{query_code};{'Sender' if status < 500 else 'Receiver'}"))
        body = {"__type": self._namespace + code, "message": message, **(fields or {})}
        return Response(status, headers, json.dumps(body).encode())


def _plain(members: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if v is not None and k in members}
