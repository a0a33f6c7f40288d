"""Console sign-in under `--auth sigv4`: an access key id and its secret, checked against the same keyring the
API's signatures are verified with (root pair, IAM users' keys, STS sessions: auth/keyring.py), make a session.

The session is a random 256-bit token in a cookie (HttpOnly: no script reads it; SameSite=Strict: no other site's
page sends it; Path=/console; an expiry, on the project clock). Each console request then runs as the session's
identity, through the same policy evaluation as a signed API call (ConsoleApi passes the principal on). Sessions
live in memory: a restart signs everyone out. The secret is kept with the session only so that a tune run can
sign its own API calls as the same identity.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from lamina.auth.sigv4 import KeyLookup
from lamina.console.sign_in_limit import SignInLimit

COOKIE = "lamina-console"
LIFETIME = 8 * 3600  # seconds a sign-in lasts
_REFUSED = "The access key ID or secret access key is not valid."


@dataclass(frozen=True, slots=True)
class Session:
    principal: str  # the caller's ARN, as the authorizer evaluates it
    access_key_id: str
    secret_access_key: str
    expires: float


class SignInFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Sessions:
    def __init__(
        self, keys: KeyLookup, now: Callable[[], float], lifetime: float = LIFETIME, limit: SignInLimit | None = None
    ) -> None:
        self._keys = keys
        self._now = now
        self._lifetime = lifetime
        self._limit = limit or SignInLimit(now)  # failed sign-ins throttled (console/sign_in_limit.py)
        self._sessions: dict[str, Session] = {}

    def sign_in(self, access_key_id: str, secret_access_key: str) -> tuple[str, Session]:
        """(token, session) for a valid pair; SignInFailed otherwise (the same words for an unknown key and a wrong
        secret, so the form does not tell which key ids exist). SignInThrottled, before any check, once that key
        id or all keys failed too often lately."""
        self._limit.check(access_key_id)
        found = self._keys(access_key_id) if access_key_id else None
        now = self._now()
        if (
            found is None
            or not hmac.compare_digest(found.secret_access_key.encode(), secret_access_key.encode())
            or not found.active
        ):
            self._limit.failed(access_key_id)
            raise SignInFailed(_REFUSED)
        self._limit.succeeded(access_key_id)
        if found.session_token is not None:
            raise SignInFailed("Sign in with an IAM user's or the root's access key, not temporary credentials.")
        self._expire(now)
        token = secrets.token_urlsafe(32)
        session = Session(found.principal, access_key_id, secret_access_key, now + self._lifetime)
        self._sessions[token] = session
        return token, session

    def find(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires <= self._now():
            del self._sessions[token]
            return None
        if not self._still_active(session):
            del self._sessions[token]  # the key was deleted or made inactive since
            return None
        return session

    def sign_out(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)

    def _still_active(self, session: Session) -> bool:
        found = self._keys(session.access_key_id)
        return found is not None and found.active

    def _expire(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]

    @staticmethod
    def cookie(token: str, max_age: int, secure: bool = False) -> str:
        flags = "; Secure" if secure else ""
        return f"{COOKIE}={token}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}"


def cookie_token(header: str) -> str | None:
    """The session token from a Cookie header, if any."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None
