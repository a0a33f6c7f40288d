"""MOCK integrations of REST APIs: API Gateway answers by itself from the method's configuration.

The request template (for the request's Content-Type, else `application/json`) gives `{"statusCode": N}` (200
without a template). The integration response whose selectionPattern matches that status, else the one without
a pattern, gives the answer's status, its body (the response template for `application/json`, else the first)
and its headers (`method.response.header.<name>` mapped from a quoted literal `'value'`). No integration
response to take is API Gateway's 500 {"message": "Internal server error"}. Templates are taken as literal
text: Lamina does not evaluate VTL (`$input`, `$context`, `#if`) in them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lamina.api.messages import Request, Response
from lamina.front_doors.payload_v1 import json_message

_HEADER = "method.response.header."


def _template(templates: dict[str, str], content_type: str) -> tuple[str, str] | None:
    if not templates:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    for key in (kind, "application/json"):
        if key and key in templates:
            return key, templates[key]
    key = next(iter(templates))
    return key, templates[key]


def mock_status(integration: dict[str, Any], request: Request) -> int | None:
    """The status the request template names; None when it names none Lamina can read."""
    found = _template(integration.get("requestTemplates") or {}, request.headers.get("content-type", ""))
    if found is None or not found[1].strip():
        return 200
    try:
        status = json.loads(found[1]).get("statusCode")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def mock_response(integration: dict[str, Any], request: Request) -> Response:
    status = mock_status(integration, request)
    responses = list((integration.get("integrationResponses") or {}).values())
    chosen = None
    if status is not None:
        chosen = next(
            (r for r in responses if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], str(status))),
            None,
        ) or next((r for r in responses if not r.get("selectionPattern")), None)
    if chosen is None:
        return json_message(500, "Internal server error")
    found = _template(chosen.get("responseTemplates") or {}, "application/json")
    content_type, body = found if found is not None else ("application/json", "")
    headers = [("Content-Type", content_type)]
    for name, value in (chosen.get("responseParameters") or {}).items():
        if name.startswith(_HEADER) and isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'":
            headers.append((name[len(_HEADER) :], value[1:-1]))
    return Response(int(chosen["statusCode"]), headers, body.encode())
