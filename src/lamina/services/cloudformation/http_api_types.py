"""AWS::ApiGatewayV2::Api and ::Stage (what SAM's HttpApi events make), provisioned through Lamina's
apigatewayv2 operations. An API given as an OpenAPI `Body` (SAM writes one) becomes CreateApi plus one
integration per Lambda target, one authorizer per security scheme (openapi_auth.py) and one route per path and
method, as API Gateway imports it."""

from __future__ import annotations

from typing import Any

from lamina.services.cloudformation import openapi_auth, s3_bodies
from lamina.services.cloudformation.resource_types import Call, Made, generated_name, quietly

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}


class HttpApi:
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        body = await s3_bodies.body_of(call, props)
        name = props.get("Name") or (body or {}).get("info", {}).get("title") or generated_name(stack, logical, 128)
        params: dict[str, Any] = {"Name": str(name), "ProtocolType": props.get("ProtocolType", "HTTP")}
        for key in ("Description", "CorsConfiguration", "DisableExecuteApiEndpoint", "Target", "RouteKey", "Tags"):
            if key in props:
                params[key] = props[key]
        cors = (body or {}).get("x-amazon-apigateway-cors")
        if cors and "CorsConfiguration" not in params:
            params["CorsConfiguration"] = {k[:1].upper() + k[1:]: v for k, v in cors.items()}
        api = await call("apigatewayv2", "CreateApi", params)
        made = Made(api["ApiId"], {"ApiId": api["ApiId"], "ApiEndpoint": api["ApiEndpoint"]})
        try:
            if body:
                await self._import(call, api["ApiId"], body)
        except Exception:
            await self.delete(call, made)
            raise
        return made

    async def _import(self, call: Call, api_id: str, body: dict[str, Any]) -> None:
        integrations: dict[tuple[str, str], str] = {}
        authorizers = await openapi_auth.create_http_authorizers(call, api_id, body)
        for path, methods in (body.get("paths") or {}).items():
            for method, operation in (methods or {}).items():
                if method not in _METHODS:
                    continue
                integration = operation.get("x-amazon-apigateway-integration") or {}
                uri = str(integration.get("uri", ""))
                version = str(integration.get("payloadFormatVersion", "2.0"))
                key = (uri, version)
                if key not in integrations:
                    params: dict[str, Any] = {
                        "ApiId": api_id,
                        "IntegrationType": str(integration.get("type", "aws_proxy")).upper(),
                        "IntegrationUri": uri,
                        "PayloadFormatVersion": version,
                    }
                    if "timeoutInMillis" in integration:
                        params["TimeoutInMillis"] = int(integration["timeoutInMillis"])
                    created = await call("apigatewayv2", "CreateIntegration", params)
                    integrations[key] = created["IntegrationId"]
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                route_key = "$default" if path == "$default" else f"{verb} {path}"
                target = f"integrations/{integrations[key]}"
                route: dict[str, Any] = {"ApiId": api_id, "RouteKey": route_key, "Target": target}
                auth = openapi_auth.authorization(operation, body, http_api=True)
                if auth.kind != "NONE":
                    route["AuthorizationType"] = auth.kind
                if auth.authorizer is not None:
                    route["AuthorizerId"] = authorizers[auth.authorizer]
                if auth.scopes:
                    route["AuthorizationScopes"] = auth.scopes
                await call("apigatewayv2", "CreateRoute", route)

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "apigatewayv2", "DeleteApi", {"ApiId": made.physical_id})


class HttpApiStage:
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        params: dict[str, Any] = {"ApiId": props["ApiId"], "StageName": props["StageName"]}
        for key in ("AutoDeploy", "Description", "StageVariables", "DefaultRouteSettings", "RouteSettings", "Tags"):
            if key in props:
                params[key] = props[key]
        await call("apigatewayv2", "CreateStage", params)
        return Made(str(props["StageName"]), {"ApiId": props["ApiId"]})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"ApiId": made.attributes["ApiId"], "StageName": made.physical_id}
        await quietly(call, "apigatewayv2", "DeleteStage", params)
