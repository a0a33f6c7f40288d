"""JWT authorizers of HTTP APIs: the token checks API Gateway makes before a route's integration runs.

As API Gateway does (http-api-jwt-authorizer): the identity source holds the token, alone or after `Bearer `;
its signature must verify (RSA algorithms only) with the key of its `kid` in the issuer's JWKS, found through
`<issuer>/.well-known/openid-configuration` (`jwks_uri`) and kept two hours; `iss` must be the configured
issuer; `aud` (or `client_id` when there is no `aud`) one of the configured audiences; `exp` after now, `nbf`
and `iat` not after now (the project's clock); and when the route has AuthorizationScopes, the `scope`/`scp`
claim must hold one of them. A bad token is 401 {"message":"Unauthorized"} with a `www-authenticate: Bearer
... error="invalid_token"` header saying why; a valid token without the scope is 403 {"message":"Forbidden"}
with error="insufficient_scope". The claims reach the integration at requestContext.authorizer.jwt.claims,
every value a string as API Gateway renders them (numbers as digits, lists as `[a b]`), with the token's
scopes at requestContext.authorizer.jwt.scopes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jwt

from lamina.api.messages import Response
from lamina.clock import Clock
from lamina.front_doors import payload_v1

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512"]  # "Currently, only RSA-based algorithms are supported."
KEYS_TTL = 2 * 3600.0  # API Gateway keeps an issuer's public keys up to two hours
REFETCH_AFTER = 60.0  # an unknown kid fetches the keys again, at most once a minute per issuer
FETCH_TIMEOUT = 5.0
_FETCH_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="lamina-jwks")


class TokenRefused(Exception):
    def __init__(self, status: int, error: str, description: str, scope: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scope = scope

    def response(self) -> Response:
        answer = payload_v1.json_message(self.status, "Unauthorized" if self.status == 401 else "Forbidden")
        challenge = f'Bearer scope="{self.scope}" error="{self.error}" error_description="{self.description}"'
        answer.headers.append(("www-authenticate", challenge))
        return answer


def invalid(description: str) -> TokenRefused:
    return TokenRefused(401, "invalid_token", description)


@dataclass
class _Keys:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched: float = float("-inf")


def _fetch_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "lamina-jwks"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        return json.loads(response.read())


def _fetch_keys(issuer: str) -> dict[str, jwt.PyJWK]:
    """The issuer's signing keys by kid, through its OpenID configuration (blocking: run in a thread)."""
    config = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    jwks_uri = config.get("jwks_uri") if isinstance(config, dict) else None
    if not isinstance(jwks_uri, str):
        raise ValueError("the OpenID configuration has no jwks_uri")
    found = jwt.PyJWKSet.from_dict(_fetch_json(jwks_uri))
    return {key.key_id: key for key in found.keys if key.key_id}


class JwksCache:
    """Issuers' public keys, fetched when first needed and again after KEYS_TTL (or for an unknown kid)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._issuers: dict[str, _Keys] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def key(self, issuer: str, kid: str) -> jwt.PyJWK | None:
        entry = self._issuers.get(issuer)
        age = self._clock.monotonic() - entry.fetched if entry is not None else float("inf")
        if entry is not None and age < KEYS_TTL and (kid in entry.keys or age < REFETCH_AFTER):
            return entry.keys.get(kid)
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            entry = self._issuers.get(issuer)
            if entry is None or self._clock.monotonic() - entry.fetched >= REFETCH_AFTER:
                try:
                    keys = await asyncio.get_running_loop().run_in_executor(_FETCH_THREADS, _fetch_keys, issuer)
                except (OSError, ValueError, jwt.PyJWTError) as error:
                    # Tried again a minute on, not on every request: an issuer that is down costs one wait.
                    log.info("JWT authorizer: cannot fetch the keys of %s: %s", issuer, error)
                    keys = entry.keys if entry is not None else {}
                entry = _Keys(keys, self._clock.monotonic())
                self._issuers[issuer] = entry
            return entry.keys.get(kid)


def token_of(value: str) -> str:
    head, _, rest = value.strip().partition(" ")
    return rest.strip() if head.lower() == "bearer" and rest else value.strip()


def claim_text(value: Any) -> str:
    """A claim value as API Gateway hands it to the integration: always a string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{claim_text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def token_scopes(claims: dict[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return []


async def validate(
    keys: JwksCache, clock: Clock, config: dict[str, Any], identity: str, route_scopes: list[str]
) -> dict[str, Any]:
    """requestContext.authorizer for a token that passes, else TokenRefused."""
    token = token_of(identity)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid("the token is malformed") from None
    if header.get("alg") not in ALGORITHMS:
        raise invalid("the token has an unsupported signing algorithm")
    issuer = str(config.get("Issuer") or "")
    kid = header.get("kid")
    key = await keys.key(issuer, kid) if isinstance(kid, str) and issuer else None
    if key is None:
        raise invalid("the token signing key was not found")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[header["alg"]],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        raise invalid("the token signature is invalid") from None
    except jwt.PyJWTError:
        raise invalid("the token is malformed") from None
    if claims.get("iss") != issuer:
        raise invalid("the token does not have a valid issuer")
    audiences = list(config.get("Audience") or [])
    if audiences:
        aud = claims["aud"] if "aud" in claims else claims.get("client_id")
        presented = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in audiences for a in presented):
            raise invalid("the token does not have a valid audience")
    now = clock.time()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
        raise invalid("the token has expired")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or value > now):
            raise invalid(f"the token has an invalid {name} claim")
    scopes = token_scopes(claims)
    if route_scopes and not set(route_scopes) & set(scopes):
        raise TokenRefused(
            403, "insufficient_scope", f"expected scopes: [{' '.join(route_scopes)}]", " ".join(route_scopes)
        )
    return {"jwt": {"claims": {k: claim_text(v) for k, v in claims.items()}, "scopes": scopes or None}}
