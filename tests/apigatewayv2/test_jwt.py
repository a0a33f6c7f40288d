"""JWT authorizers of HTTP APIs, end to end: an identity provider served by the test (OpenID configuration and
JWKS on a local port), tokens signed with its RSA key, and a route guarded by the authorizer."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.apigatewayv2.conftest import grant
from tests.elbv2.conftest import Answer, http_call
from tests.server import LaminaProcess


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey
    kid: str
    fetches: list[str]

    def token(self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {"iss": self.url, "aud": "my-app", "sub": "user-1", "iat": now, "exp": now + 600}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex[:8]
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    fetches: list[str] = []
    holder: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                body: dict[str, Any] = {"issuer": holder["url"], "jwks_uri": holder["url"] + "/keys"}
            elif self.path == "/keys":
                body = {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Issuer(holder["url"], key, kid, fetches)
    finally:
        server.shutdown()
        server.server_close()


def _guarded_api(apigw: Any, lambda_client: Any, function: str, issuer: Issuer, version: str) -> tuple[str, str]:
    api_id = apigw.create_api(Name=f"jwt-{version}", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function, PayloadFormatVersion=version
    )
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="tokens",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": ["my-app", "other-app"], "Issuer": issuer.url},
    )
    target = f"integrations/{integration['IntegrationId']}"
    for key, scopes in (("GET /me", []), ("GET /admin", ["admin"])):
        apigw.create_route(
            ApiId=api_id,
            RouteKey=key,
            Target=target,
            AuthorizationType="JWT",
            AuthorizerId=authorizer["AuthorizerId"],
            AuthorizationScopes=scopes,
        )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    grant(lambda_client, function, api_id)
    return api_id, f"{api_id}.execute-api.localhost"


def _refusal(answer: Answer) -> tuple[int, Any, str]:
    headers = {k.lower(): v for k, v in answer.headers}
    return answer.status, json.loads(answer.body), headers.get("www-authenticate", "")


def test_a_jwt_authorizer_validates_tokens_against_the_issuers_keys(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str], issuer: Issuer
) -> None:
    api_id, host = _guarded_api(apigw, lambda_client, make_function(), issuer, "2.0")

    def call(path: str, token: str | None) -> Answer:
        return http_call(lamina.port, host, "GET", path, headers=[("Authorization", token)] if token else [])

    try:
        assert _refusal(call("/me", None))[:2] == (401, {"message": "Unauthorized"})
        status, body, challenge = _refusal(call("/me", "not-a-jwt"))
        assert (status, body) == (401, {"message": "Unauthorized"})
        assert 'error="invalid_token"' in challenge
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cases = {
            "signature": issuer.token(key=other_key),
            "signing key": issuer.token(kid="unknown"),
            "expired": issuer.token(exp=int(time.time()) - 10),
            "no exp": issuer.token(exp=None),
            "not yet valid": issuer.token(nbf=int(time.time()) + 600),
            "audience": issuer.token(aud="someone-else"),
            "issuer": issuer.token(iss="https://elsewhere.example"),
        }
        for why, token in cases.items():
            status, body, challenge = _refusal(call("/me", f"Bearer {token}"))
            assert (status, body) == (401, {"message": "Unauthorized"}), why
            assert challenge.startswith('Bearer scope="" error="invalid_token" error_description='), why
        assert "expired" in _refusal(call("/me", cases["expired"]))[2]
        assert "audience" in _refusal(call("/me", cases["audience"]))[2]

        good = issuer.token(scope="read write", groups=["a", "b"], level=3)
        answer = call("/me", f"Bearer {good}")
        assert answer.status == 200, answer.body
        authorizer = json.loads(answer.body)["requestContext"]["authorizer"]
        claims = authorizer["jwt"]["claims"]
        assert claims["sub"] == "user-1" and claims["aud"] == "my-app" and claims["iss"] == issuer.url
        assert claims["groups"] == "[a b]" and claims["level"] == "3" and isinstance(claims["exp"], str)
        assert authorizer["jwt"]["scopes"] == ["read", "write"]
        assert call("/me", good).status == 200  # the token alone, without "Bearer ", is taken too
        # client_id stands in for aud when the token has none (access tokens of some providers)
        assert call("/me", issuer.token(aud=None, client_id="other-app")).status == 200

        status, body, challenge = _refusal(call("/admin", good))
        assert (status, body) == (403, {"message": "Forbidden"})
        assert 'error="insufficient_scope"' in challenge
        assert call("/admin", issuer.token(scope="admin")).status == 200
        # the keys were fetched once, through the OpenID configuration, and kept
        assert issuer.fetches.count("/.well-known/openid-configuration") <= 2
        assert issuer.fetches[:2] == ["/.well-known/openid-configuration", "/keys"]
    finally:
        apigw.delete_api(ApiId=api_id)


def test_payload_1_0_gets_the_claims_at_the_authorizer(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str], issuer: Issuer
) -> None:
    api_id, host = _guarded_api(apigw, lambda_client, make_function(), issuer, "1.0")
    try:
        answer = http_call(lamina.port, host, "GET", "/me", headers=[("Authorization", issuer.token(scope="x"))])
        assert answer.status == 200, answer.body
        authorizer = json.loads(answer.body)["requestContext"]["authorizer"]
        assert authorizer["claims"]["sub"] == "user-1"
        assert authorizer["scopes"] == ["x"]
    finally:
        apigw.delete_api(ApiId=api_id)
