"""The claims STS reads from an OpenID Connect token (AssumeRoleWithWebIdentity).

Lamina does not fetch the provider's keys (there is no network to reach them), so the signature is not
verified: the token must be a well-formed JWT, and its `sub`, `aud` and `iss` are echoed as AWS echoes them.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lamina.errors import ServiceFault


def invalid_token() -> ServiceFault:
    return ServiceFault(
        "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        400,
    )


def claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid_token()
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        found = json.loads(payload)
    except (binascii.Error, ValueError):
        raise invalid_token() from None
    if not isinstance(found, dict):
        raise invalid_token()
    return found
