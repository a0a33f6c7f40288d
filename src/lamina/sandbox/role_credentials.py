"""The credentials an execution environment finds in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
`AWS_SESSION_TOKEN`.

On AWS these are temporary credentials of the function's execution role, issued per environment: an access
key id `ASIA` + 16 upper-case letters and digits, a 40-character secret, and a session token of several
hundred base64 characters. Lamina does not check credentials yet, so `LocalIssuer` makes well-formed random
ones, fresh for every environment and stable for its life (the variables are set once, at its start).

The seam: `CredentialIssuer.issue(function_arn)` (for the function's execution role) is all an
environment asks for. A real issuer (one that
records what it handed out so the API can check signatures against it) replaces `LocalIssuer` without
touching the sandbox.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass
from typing import Protocol

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_TOKEN_BYTES = 600  # AWS's role session tokens run to ~800 base64 characters and more


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def variables(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


class CredentialIssuer(Protocol):
    def issue(self, function_arn: str) -> RoleCredentials: ...


class LocalIssuer:
    """Well-formed, unique, unchecked credentials (see the module docstring)."""

    def issue(self, function_arn: str) -> RoleCredentials:
        key_id = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        # AWS's tokens all start with the same bytes ("IQoJb3JpZ2luX2Vj" in base64); the rest is random here.
        token = "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(_TOKEN_BYTES)).decode()
        return RoleCredentials(key_id, secret, token)
