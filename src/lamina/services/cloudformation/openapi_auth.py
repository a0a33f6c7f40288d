"""Authorizers in an imported OpenAPI/Swagger body, as API Gateway imports them (and as SAM's Auth writes them into
DefinitionBody): each security scheme with `x-amazon-apigateway-authorizer` becomes an authorizer of the API, and an
operation's `security` picks its authorization (CUSTOM/COGNITO_USER_POOLS/JWT with that authorizer, AWS_IAM for
`x-amazon-apigateway-authtype: awsSigv4`, an API key for a plain apiKey scheme)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lamina.services.cloudformation.resource_types import Call


def schemes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Swagger 2's securityDefinitions or OpenAPI 3's components.securitySchemes."""
    found = body.get("securityDefinitions") or (body.get("components") or {}).get("securitySchemes") or {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


@dataclass
class Authorization:
    """What one operation's `security` asks for."""

    kind: str = "NONE"  # NONE, CUSTOM, COGNITO_USER_POOLS, JWT, AWS_IAM
    authorizer: str | None = None  # the scheme's name, whose authorizer id the caller knows
    scopes: list[str] = field(default_factory=list)
    api_key: bool = False


def authorization(operation: dict[str, Any], body: dict[str, Any], http_api: bool) -> Authorization:
    requirements = operation.get("security")
    if requirements is None:
        requirements = body.get("security") or []
    known = schemes(body)
    out = Authorization()
    for requirement in requirements[:1] if requirements else []:
        for name, scopes in (requirement or {}).items():
            scheme = known.get(str(name))
            if scheme is None:
                continue  # SAM's NONE and the like: no scheme of that name, no authorization
            authorizer = scheme.get("x-amazon-apigateway-authorizer")
            if authorizer:
                kind = str(authorizer.get("type", "token")).lower()
                out.authorizer = str(name)
                out.scopes = [str(s) for s in scopes or []]
                if kind == "jwt":
                    out.kind = "JWT"
                elif kind == "cognito_user_pools":
                    out.kind = "COGNITO_USER_POOLS"
                else:
                    out.kind = "CUSTOM"
            elif str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
                out.kind = "AWS_IAM"
            elif scheme.get("type") == "apiKey" and not http_api:
                out.api_key = True
    return out


async def create_rest_authorizers(call: Call, api_id: str, body: dict[str, Any]) -> dict[str, str]:
    """scheme name → authorizer id, for a REST API (apigateway CreateAuthorizer)."""
    ids: dict[str, str] = {}
    for name, scheme in schemes(body).items():
        given = scheme.get("x-amazon-apigateway-authorizer")
        if not given:
            continue
        kind = str(given.get("type", "token")).upper()
        params: dict[str, Any] = {"restApiId": api_id, "name": name, "type": kind}
        if kind == "TOKEN":
            params["identitySource"] = given.get("identitySource") or f"method.request.header.{scheme.get('name')}"
        elif given.get("identitySource"):
            params["identitySource"] = str(given["identitySource"])
        for wire, member in (
            ("authorizerUri", "authorizerUri"),
            ("authorizerCredentials", "authorizerCredentials"),
            ("identityValidationExpression", "identityValidationExpression"),
            ("providerARNs", "providerARNs"),
        ):
            if given.get(wire):
                params[member] = given[wire]
        if "authorizerResultTtlInSeconds" in given:
            params["authorizerResultTtlInSeconds"] = int(given["authorizerResultTtlInSeconds"])
        ids[name] = (await call("apigateway", "CreateAuthorizer", params))["id"]
    return ids


async def create_http_authorizers(call: Call, api_id: str, body: dict[str, Any]) -> dict[str, str]:
    """scheme name → authorizer id, for an HTTP API (apigatewayv2 CreateAuthorizer)."""
    ids: dict[str, str] = {}
    for name, scheme in schemes(body).items():
        given = scheme.get("x-amazon-apigateway-authorizer")
        if not given:
            continue
        kind = str(given.get("type", "request")).upper()
        params: dict[str, Any] = {"ApiId": api_id, "Name": name, "AuthorizerType": kind}
        source = given.get("identitySource")
        if source:
            params["IdentitySource"] = [s.strip() for s in source.split(",")] if isinstance(source, str) else source
        if kind == "JWT":
            jwt = given.get("jwtConfiguration") or {}
            audience = jwt.get("audience") or []
            params["JwtConfiguration"] = {
                "Issuer": str(jwt.get("issuer", "")),
                "Audience": [audience] if isinstance(audience, str) else list(audience),
            }
        else:
            params["AuthorizerUri"] = str(given.get("authorizerUri", ""))
            for wire, member in (
                ("authorizerPayloadFormatVersion", "AuthorizerPayloadFormatVersion"),
                ("enableSimpleResponses", "EnableSimpleResponses"),
                ("authorizerCredentials", "AuthorizerCredentialsArn"),
            ):
                if wire in given:
                    params[member] = given[wire]
            if "authorizerResultTtlInSeconds" in given:
                params["AuthorizerResultTtlInSeconds"] = int(given["authorizerResultTtlInSeconds"])
            if params.get("AuthorizerPayloadFormatVersion") is not None:
                params["AuthorizerPayloadFormatVersion"] = str(params["AuthorizerPayloadFormatVersion"])
        ids[name] = (await call("apigatewayv2", "CreateAuthorizer", params))["AuthorizerId"]
    return ids
