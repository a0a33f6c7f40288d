"""JWT validation and the issuer key cache on a manual clock (the fetch of the keys replaced, the tokens real)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lamina.clock import ManualClock
from lamina.front_doors import jwt_authorizer
from lamina.front_doors.jwt_authorizer import JwksCache, TokenRefused, claim_text, token_of, validate

ISSUER = "https://issuer.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = jwt.PyJWK({**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "k1"})


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def fake_fetch(issuer: str) -> dict[str, jwt.PyJWK]:
        seen.append(issuer)
        if issuer.endswith("down"):
            raise OSError("connection refused")
        return {"k1": PUBLIC}

    monkeypatch.setattr(jwt_authorizer, "_fetch_keys", fake_fetch)
    return seen


def test_keys_are_kept_two_hours_and_refetched_for_an_unknown_kid_once_a_minute(fetches: list[str]) -> None:
    clock = ManualClock()
    cache = JwksCache(clock)

    async def key(kid: str, issuer: str = ISSUER) -> Any:
        return await cache.key(issuer, kid)

    assert asyncio.run(key("k1")) is PUBLIC
    clock.advance(7199)
    assert asyncio.run(key("k1")) is PUBLIC
    assert len(fetches) == 1
    clock.advance(1)
    assert asyncio.run(key("k1")) is PUBLIC
    assert len(fetches) == 2
    assert asyncio.run(key("other")) is None  # fetched less than a minute ago: not again
    assert len(fetches) == 2
    clock.advance(60)
    assert asyncio.run(key("other")) is None
    assert len(fetches) == 3
    assert asyncio.run(key("k1", ISSUER + "/down")) is None
    assert asyncio.run(key("k1", ISSUER + "/down")) is None  # a failed fetch waits a minute too
    assert len(fetches) == 4


def _token(**claims: Any) -> str:
    body = {"iss": ISSUER, "aud": "app", "sub": "u", "iat": 1_700_000_000, "exp": 1_700_000_600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, KEY, algorithm="RS256", headers={"kid": "k1"})


def _check(clock: ManualClock, token: str, scopes: list[str] | None = None) -> dict[str, Any]:
    config = {"Issuer": ISSUER, "Audience": ["app"]}
    return asyncio.run(validate(JwksCache(clock), clock, config, "Bearer " + token, scopes or []))


def test_time_claims_are_judged_on_the_clock(fetches: list[str]) -> None:
    clock = ManualClock(start=1_700_000_100)
    assert _check(clock, _token())["jwt"]["claims"]["exp"] == "1700000600"
    clock.advance(500)  # now == exp: expired
    with pytest.raises(TokenRefused) as refused:
        _check(clock, _token())
    assert (refused.value.status, refused.value.description) == (401, "the token has expired")
    early = ManualClock(start=1_699_999_000)
    with pytest.raises(TokenRefused, match="iat"):
        _check(early, _token())
    with pytest.raises(TokenRefused, match="nbf"):
        _check(ManualClock(start=1_700_000_100), _token(nbf=1_700_000_200))


def test_algorithms_scopes_and_claim_texts(fetches: list[str]) -> None:
    clock = ManualClock(start=1_700_000_100)
    hs = jwt.encode({"iss": ISSUER, "exp": 1_700_000_600}, "s" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(TokenRefused, match="algorithm"):
        _check(clock, hs)  # only RSA, as API Gateway: no HMAC with the public key as secret
    with pytest.raises(TokenRefused) as refused:
        _check(clock, _token(scp=["read"]), ["admin"])
    assert (refused.value.status, refused.value.error) == (403, "insufficient_scope")
    assert _check(clock, _token(scp=["read", "admin"]), ["admin"])["jwt"]["scopes"] == ["read", "admin"]
    assert [claim_text(v) for v in ("s", 3, 2.5, True, ["a", 1], {"k": "v"})] == [
        "s",
        "3",
        "2.5",
        "true",
        "[a 1]",
        "map[k:v]",
    ]
    assert token_of("Bearer abc") == token_of("bearer  abc") == token_of("abc") == "abc"
