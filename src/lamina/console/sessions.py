"""Console sign-in under `--auth sigv4`: an access key id and its secret, checked against the same keyring the
API's signatures are verified with (root pair, IAM users' keys, STS sessions: auth/keyring.py), make a session.

The session is a random 256-bit token in a cookie (HttpOnly: no script reads it; SameSite=Strict: no other site's
page sends it; Path=/console; an expiry, on the project clock). Each console request then runs as the session's
identity, through the same policy evaluation as a signed API call (ConsoleApi passes the principal on).

Sessions survive a restart: each is a document (kind `console-sessions`) keyed by the SHA-256 of its token, holding
the principal, the access key id and the expiry, committed before the cookie is answered; neither the token nor
the secret is ever written. The secret is kept in memory only, so that a tune run can sign its own API calls as
the same identity: after a restart a session reads and changes as before, but a tune run asks to sign in again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from lamina.auth.sigv4 import KeyLookup
from lamina.console.sign_in_limit import SignInLimit
from lamina.store.documents import DocumentStore, MemoryStore

COOKIE = "lamina-console"
KIND = "console-sessions"
LIFETIME = 8 * 3600  # seconds a sign-in lasts
_REFUSED = "The access key ID or secret access key is not valid."


@dataclass(frozen=True, slots=True)
class Session:
    principal: str  # the caller's ARN, as the authorizer evaluates it
    access_key_id: str
    secret_access_key: str | None  # None for a session from before a restart: it cannot sign tune runs
    expires: float


class SignInFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Sessions:
    def __init__(
        self,
        keys: KeyLookup,
        now: Callable[[], float],
        lifetime: float = LIFETIME,
        limit: SignInLimit | None = None,
        store: DocumentStore | None = None,
    ) -> None:
        self._keys = keys
        self._now = now
        self._lifetime = lifetime
        self._limit = limit or SignInLimit(now)  # failed sign-ins throttled (console/sign_in_limit.py)
        self._store: DocumentStore = store if store is not None else MemoryStore()
        self._sessions: dict[str, Session] = {}  # the token's digest → the session
        for digest, body in self._store.load(KIND).items():
            self._sessions[digest] = Session(body["principal"], body["accessKeyId"], None, float(body["expires"]))
        self._expire(now())

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
        digest = _digest(token)
        body = {"principal": session.principal, "accessKeyId": access_key_id, "expires": session.expires}
        self._store.put(KIND, digest, body)  # committed before the cookie is answered
        self._sessions[digest] = session
        return token, session

    def find(self, token: str | None) -> Session | None:
        if not token:
            return None
        digest = _digest(token)
        session = self._sessions.get(digest)
        if session is None:
            return None
        if session.expires <= self._now() or not self._still_active(session):  # expired, or the key deleted since
            self._forget(digest)
            return None
        return session

    def sign_out(self, token: str | None) -> None:
        if token:
            self._forget(_digest(token))

    def _forget(self, digest: str) -> None:
        if self._sessions.pop(digest, None) is not None:
            self._store.delete(KIND, digest)

    def _still_active(self, session: Session) -> bool:
        found = self._keys(session.access_key_id)
        return found is not None and found.active

    def _expire(self, now: float) -> None:
        for digest in [d for d, s in self._sessions.items() if s.expires <= now]:
            self._forget(digest)

    @staticmethod
    def cookie(token: str, max_age: int, secure: bool = False) -> str:
        flags = "; Secure" if secure else ""
        return f"{COOKIE}={token}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}"


def _digest(token: str) -> str:
    """What a session is stored under: the token's SHA-256 (256 random bits: no salt or stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_token(header: str) -> str | None:
    """The session token from a Cookie header, if any."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None
