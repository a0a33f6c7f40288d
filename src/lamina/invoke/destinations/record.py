"""The messages an async outcome produces: the destination record and the dead-letter message
(spec invoke-and-runtime.md §3, compared with the recorded test_lambda_destinations responses).

`Response` is what Lamina remembers of the last function run of an event (kept in the queue row, so an
EventAgeExceeded record after a restart still carries it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

ERROR_MESSAGE_LIMIT = 1024  # §3: the DLQ's ErrorMessage holds the first 1 KB of the error message


@dataclass(frozen=True)
class Response:
    status_code: int  # 200 when the function ran (even when it failed); 429 / 500 when it could not run
    executed_version: str
    function_error: str | None = None
    payload: str | None = None  # the function's response or error document, as text

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Response:
        return cls(**json.loads(text))


def _json_or_text(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data.decode(errors="replace") if isinstance(data, bytes) else data


def timestamp(epoch: float) -> str:
    """`2019-11-14T18:16:05.568Z`."""
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def destination_record(
    *,
    now: float,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: bytes,
    response: Response,
) -> dict[str, Any]:
    context: dict[str, Any] = {"statusCode": response.status_code, "executedVersion": response.executed_version}
    if response.function_error:
        context["functionError"] = response.function_error
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": _json_or_text(request_payload),
        "responseContext": context,
    }
    if response.payload is not None:
        record["responsePayload"] = _json_or_text(response.payload)
    return record


def dead_letter_attributes(request_id: str, response: Response) -> dict[str, tuple[str, str]]:
    """§3: RequestID, ErrorCode (the HTTP status code) and ErrorMessage (first 1 KB) beside the original event."""
    message = ""
    document = _json_or_text(response.payload or "")
    if isinstance(document, dict):
        message = str(document.get("errorMessage", ""))
    elif isinstance(document, str):
        message = document
    return {
        "RequestID": ("String", request_id),
        "ErrorCode": ("Number", str(response.status_code)),
        "ErrorMessage": ("String", message.encode()[:ERROR_MESSAGE_LIMIT].decode(errors="ignore")),
    }
