"""The apigatewayv2 API for HTTP APIs (rest-json, /v2/apis...): APIs (with quick create), routes,
integrations, stages and deployments, with AWS's errors (NotFoundException 404, BadRequestException 400,
ConflictException 409). WebSocket APIs are refused."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.services.apigatewayv2.engine import HttpApiEngine
from lamina.services.apigatewayv2.records import HttpApi
from lamina.services.apigatewayv2.routing import DEFAULT_ROUTE, valid_route_key
from lamina.types import CallContext

HOST_SUFFIX = ".execute-api.localhost"
DEFAULT_STAGE = "$default"
_ID_CHARS = string.ascii_lowercase + string.digits
_API_FIELDS = (
    "ApiKeySelectionExpression",
    "CorsConfiguration",
    "Description",
    "DisableSchemaValidation",
    "DisableExecuteApiEndpoint",
    "IpAddressType",
    "Name",
    "RouteSelectionExpression",
    "Version",
)
_ROUTE_FIELDS = (
    "ApiKeyRequired",
    "AuthorizationScopes",
    "AuthorizationType",
    "AuthorizerId",
    "OperationName",
    "RequestParameters",
    "RouteKey",
    "Target",
)
_INTEGRATION_FIELDS = (
    "ConnectionType",
    "CredentialsArn",
    "Description",
    "IntegrationMethod",
    "IntegrationSubtype",
    "IntegrationType",
    "IntegrationUri",
    "PayloadFormatVersion",
    "RequestParameters",
    "ResponseParameters",
    "TimeoutInMillis",
)
_STAGE_FIELDS = (
    "AccessLogSettings",
    "AutoDeploy",
    "DefaultRouteSettings",
    "DeploymentId",
    "Description",
    "RouteSettings",
    "StageVariables",
)
_AUTHORIZER_FIELDS = (
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
)
_INTEGRATION_TYPES = {"AWS_PROXY", "HTTP_PROXY"}


def new_id(length: int) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def not_found(what: str, ident: str) -> ServiceFault:
    return ServiceFault("NotFoundException", f"Invalid {what} identifier specified {ident}", 404)


def bad_request(message: str) -> ServiceFault:
    return ServiceFault("BadRequestException", message, 400)


def _copy(fields: tuple[str, ...], params: dict[str, Any], into: dict[str, Any]) -> None:
    for name in fields:
        if name in params:
            into[name] = params[name]


class HttpApiProvider:
    def __init__(self, engine: HttpApiEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # -- APIs ---------------------------------------------------------------------------------------
    def _api(self, ctx: CallContext, api_id: str) -> HttpApi:
        api = self._engine.get(api_id)
        if api is None or api.region != ctx.region or api.account != ctx.account_id:
            raise not_found("API", f"{ctx.account_id}:{api_id}")
        return api

    def _endpoint(self, ctx: CallContext, api_id: str) -> str:
        port = ctx.base_url.rpartition(":")[2]
        suffix = f":{port}" if port.isdigit() else ""
        return f"http://{api_id}{HOST_SUFFIX}{suffix}"

    def create_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("ProtocolType") != "HTTP":
            raise bad_request("Lamina serves HTTP APIs only; WebSocket APIs are not supported")
        api_id = new_id(10)
        while api_id in self._engine.apis:
            api_id = new_id(10)
        record: dict[str, Any] = {
            "ApiEndpoint": self._endpoint(ctx, api_id),
            "ApiId": api_id,
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "CreatedDate": iso(self._clock.time()),
            "DisableExecuteApiEndpoint": False,
            "IpAddressType": "ipv4",
            "ProtocolType": "HTTP",
            "RouteSelectionExpression": "$request.method $request.path",
            "Tags": params.get("Tags") or {},
        }
        _copy(_API_FIELDS, params, record)
        api = HttpApi(record, ctx.region, ctx.account_id)
        if params.get("Target"):  # quick create: an integration, a route and the auto-deployed $default stage
            integration = self._integration(api, {"IntegrationType": "AWS_PROXY", "IntegrationUri": params["Target"]})
            integration["ApiGatewayManaged"] = True
            route_key = params.get("RouteKey") or DEFAULT_ROUTE
            if not valid_route_key(route_key):
                raise bad_request(f"Invalid route key: {route_key}")
            route = self._route(api, {"RouteKey": route_key, "Target": f"integrations/{integration['IntegrationId']}"})
            route["ApiGatewayManaged"] = True
            stage = self._stage(api, {"StageName": DEFAULT_STAGE, "AutoDeploy": True})
            stage["ApiGatewayManaged"] = True
            self._auto_deploy(api)
        elif params.get("RouteKey"):
            raise bad_request("RouteKey can only be specified with Target")
        self._engine.put(api)
        return dict(api.api)

    def get_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._api(ctx, params["ApiId"]).api)

    def get_apis(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        items = [
            dict(a.api) for a in self._engine.apis.values() if a.region == ctx.region and a.account == ctx.account_id
        ]
        return _page(sorted(items, key=lambda a: str(a["CreatedDate"]) + a["ApiId"]), params)

    def update_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        _copy(_API_FIELDS, params, api.api)
        if params.get("Target"):
            managed = [i for i in api.integrations.values() if i.get("ApiGatewayManaged")]
            if managed:
                managed[0]["IntegrationUri"] = params["Target"]
        self._auto_deploy(api)
        self._engine.put(api)
        return dict(api.api)

    def delete_api(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete(self._api(ctx, params["ApiId"]))

    def delete_cors_configuration(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params["ApiId"])
        api.api.pop("CorsConfiguration", None)
        self._engine.put(api)

    # -- routes -------------------------------------------------------------------------------------
    def _route(self, api: HttpApi, params: dict[str, Any]) -> dict[str, Any]:
        key = params["RouteKey"]
        if not valid_route_key(key):
            raise bad_request(f"Invalid route key: {key}")
        if any(r["RouteKey"] == key for r in api.routes.values()):
            raise ServiceFault("ConflictException", f"Route with key {key} already exists for this API", 409)
        route: dict[str, Any] = {
            "ApiKeyRequired": False,
            "AuthorizationType": "NONE",
            "RouteId": new_id(7),
        }
        _copy(_ROUTE_FIELDS, params, route)
        self._check_target(api, route.get("Target"))
        self._check_route_auth(api, route)
        api.routes[route["RouteId"]] = route
        return route

    def _check_target(self, api: HttpApi, target: str | None) -> None:
        if target is None:
            return
        kind, _, ident = target.partition("/")
        if kind != "integrations" or ident not in api.integrations:
            raise bad_request(f"Invalid target {target}: no such integration")

    def _check_route_auth(self, api: HttpApi, route: dict[str, Any]) -> None:
        kind = route.get("AuthorizationType", "NONE")
        if kind in ("CUSTOM", "JWT"):
            authorizer = api.authorizers.get(route.get("AuthorizerId") or "")
            wanted = "REQUEST" if kind == "CUSTOM" else "JWT"
            if authorizer is None or authorizer.get("AuthorizerType") != wanted:
                raise bad_request(f"AuthorizationType {kind} needs the AuthorizerId of a {wanted} authorizer")
        elif kind not in ("NONE", "AWS_IAM"):
            raise bad_request(f"Invalid AuthorizationType {kind}")

    def _route_of(self, api: HttpApi, route_id: str) -> dict[str, Any]:
        route = api.routes.get(route_id)
        if route is None:
            raise not_found("Route", route_id)
        return route

    def create_route(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        route = self._route(api, params)
        self._auto_deploy(api)
        self._engine.put(api)
        return dict(route)

    def get_route(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._route_of(self._api(ctx, params["ApiId"]), params["RouteId"]))

    def get_routes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        return _page([dict(r) for r in api.routes.values()], params)

    def update_route(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        route = self._route_of(api, params["RouteId"])
        key = params.get("RouteKey")
        if key is not None and key != route["RouteKey"]:
            if not valid_route_key(key):
                raise bad_request(f"Invalid route key: {key}")
            if any(r["RouteKey"] == key for r in api.routes.values()):
                raise ServiceFault("ConflictException", f"Route with key {key} already exists for this API", 409)
        self._check_target(api, params.get("Target"))
        updated = dict(route)
        _copy(_ROUTE_FIELDS, params, updated)
        self._check_route_auth(api, updated)
        route.update(updated)
        self._auto_deploy(api)
        self._engine.put(api)
        return dict(route)

    def delete_route(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params["ApiId"])
        self._route_of(api, params["RouteId"])
        del api.routes[params["RouteId"]]
        self._auto_deploy(api)
        self._engine.put(api)

    # -- integrations -------------------------------------------------------------------------------
    def _integration(self, api: HttpApi, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("IntegrationType")
        if kind not in _INTEGRATION_TYPES:
            raise bad_request(f"Unsupported integration type {kind} for an HTTP API (AWS_PROXY or HTTP_PROXY)")
        version = params.get("PayloadFormatVersion") or ("2.0" if kind == "AWS_PROXY" else "1.0")
        if version not in ("1.0", "2.0"):
            raise bad_request(f"Invalid PayloadFormatVersion {version}: 1.0 or 2.0")
        timeout = params.get("TimeoutInMillis", 30000)
        if not 50 <= timeout <= 30000:
            raise bad_request("TimeoutInMillis must be between 50 and 30000")
        integration: dict[str, Any] = {
            "ConnectionType": "INTERNET",
            "IntegrationId": new_id(7),
            "IntegrationMethod": "POST",
            "IntegrationResponseSelectionExpression": "${integration.response.statuscode}",
            "PayloadFormatVersion": version,
            "TimeoutInMillis": timeout,
        }
        _copy(_INTEGRATION_FIELDS, params, integration)
        integration["PayloadFormatVersion"] = version
        api.integrations[integration["IntegrationId"]] = integration
        return integration

    def _integration_of(self, api: HttpApi, integration_id: str) -> dict[str, Any]:
        integration = api.integrations.get(integration_id)
        if integration is None:
            raise not_found("Integration", integration_id)
        return integration

    def create_integration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        integration = self._integration(api, params)
        self._engine.put(api)
        return dict(integration)

    def get_integration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._integration_of(self._api(ctx, params["ApiId"]), params["IntegrationId"]))

    def get_integrations(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        return _page([dict(i) for i in api.integrations.values()], params)

    def update_integration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        integration = self._integration_of(api, params["IntegrationId"])
        if params.get("PayloadFormatVersion") not in (None, "1.0", "2.0"):
            raise bad_request(f"Invalid PayloadFormatVersion {params['PayloadFormatVersion']}: 1.0 or 2.0")
        _copy(_INTEGRATION_FIELDS, params, integration)
        self._auto_deploy(api)
        self._engine.put(api)
        return dict(integration)

    def delete_integration(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params["ApiId"])
        ident = params["IntegrationId"]
        self._integration_of(api, ident)
        users = [r["RouteId"] for r in api.routes.values() if r.get("Target") == f"integrations/{ident}"]
        if users:
            raise ServiceFault(
                "ConflictException", f"Cannot delete integration {ident}: routes {', '.join(users)} use it", 409
            )
        del api.integrations[ident]
        self._engine.put(api)

    # -- authorizers --------------------------------------------------------------------------------
    def _check_authorizer(self, authorizer: dict[str, Any]) -> None:
        kind = authorizer.get("AuthorizerType")
        if kind == "REQUEST":
            if not authorizer.get("AuthorizerUri"):
                raise bad_request("AuthorizerUri is required for a REQUEST authorizer")
            version = authorizer.get("AuthorizerPayloadFormatVersion")
            if version not in ("1.0", "2.0"):
                raise bad_request("AuthorizerPayloadFormatVersion must be 1.0 or 2.0 for a REQUEST authorizer")
            if authorizer.get("EnableSimpleResponses") and version != "2.0":
                raise bad_request("EnableSimpleResponses is only supported for payload format version 2.0")
        elif kind == "JWT":
            if not authorizer.get("JwtConfiguration") or not authorizer.get("IdentitySource"):
                raise bad_request("JwtConfiguration and IdentitySource are required for a JWT authorizer")
        else:
            raise bad_request(f"Invalid AuthorizerType {kind}: REQUEST or JWT for an HTTP API")

    def create_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        authorizer: dict[str, Any] = {"AuthorizerId": new_id(6)}
        if params.get("AuthorizerType") == "REQUEST":
            authorizer["AuthorizerResultTtlInSeconds"] = 0
            authorizer["EnableSimpleResponses"] = False
        _copy(_AUTHORIZER_FIELDS, params, authorizer)
        self._check_authorizer(authorizer)
        api.authorizers[authorizer["AuthorizerId"]] = authorizer
        self._engine.put(api)
        return dict(authorizer)

    def _authorizer_of(self, api: HttpApi, authorizer_id: str) -> dict[str, Any]:
        found = api.authorizers.get(authorizer_id)
        if found is None:
            raise not_found("Authorizer", authorizer_id)
        return found

    def get_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._authorizer_of(self._api(ctx, params["ApiId"]), params["AuthorizerId"]))

    def get_authorizers(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        return _page([dict(a) for a in api.authorizers.values()], params)

    def update_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        authorizer = dict(self._authorizer_of(api, params["AuthorizerId"]))
        _copy(_AUTHORIZER_FIELDS, params, authorizer)
        self._check_authorizer(authorizer)
        api.authorizers[authorizer["AuthorizerId"]] = authorizer
        self._engine.put(api)
        return dict(authorizer)

    def delete_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params["ApiId"])
        ident = params["AuthorizerId"]
        self._authorizer_of(api, ident)
        if any(r.get("AuthorizerId") == ident for r in api.routes.values()):
            raise ServiceFault("ConflictException", f"Cannot delete authorizer {ident}: routes use it", 409)
        del api.authorizers[ident]
        self._engine.put(api)

    # -- stages and deployments ---------------------------------------------------------------------
    def _stage(self, api: HttpApi, params: dict[str, Any]) -> dict[str, Any]:
        name = params["StageName"]
        if name in api.stages:
            raise ServiceFault("ConflictException", f"Stage already exists: {name}", 409)
        if params.get("DeploymentId") and params["DeploymentId"] not in api.deployments:
            raise bad_request(f"Deployment {params['DeploymentId']} does not exist")
        now = iso(self._clock.time())
        stage: dict[str, Any] = {
            "AutoDeploy": False,
            "CreatedDate": now,
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            "LastUpdatedDate": now,
            "RouteSettings": {},
            "StageName": name,
            "StageVariables": {},
            "Tags": params.get("Tags") or {},
        }
        _copy(_STAGE_FIELDS, params, stage)
        api.stages[name] = stage
        return stage

    def _stage_of(self, api: HttpApi, name: str) -> dict[str, Any]:
        stage = api.stages.get(name)
        if stage is None:
            raise not_found("stage", f"{name} in API {api.api_id}")
        return stage

    def _deploy(self, api: HttpApi, description: str | None, auto: bool) -> dict[str, Any]:
        """A deployment freezes the API's routes and integrations; a stage serves the one it points at."""
        deployment: dict[str, Any] = {
            "AutoDeployed": auto,
            "CreatedDate": iso(self._clock.time()),
            "DeploymentId": new_id(6),
            "DeploymentStatus": "DEPLOYED",
        }
        if description:
            deployment["Description"] = description
        api.deployments[deployment["DeploymentId"]] = deployment
        snapshot = {"routes": [dict(r) for r in api.routes.values()], "integrations": dict(api.integrations)}
        api.snapshots[deployment["DeploymentId"]] = snapshot
        return deployment

    def _auto_deploy(self, api: HttpApi) -> None:
        for stage in api.stages.values():
            if stage.get("AutoDeploy"):
                stage["DeploymentId"] = self._deploy(api, None, True)["DeploymentId"]
                stage["LastUpdatedDate"] = iso(self._clock.time())

    def create_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        stage = self._stage(api, params)
        if stage.get("AutoDeploy"):
            self._auto_deploy(api)
        self._engine.put(api)
        return dict(stage)

    def get_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._stage_of(self._api(ctx, params["ApiId"]), params["StageName"]))

    def get_stages(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        return _page([dict(s) for s in api.stages.values()], params)

    def update_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        stage = self._stage_of(api, params["StageName"])
        if params.get("DeploymentId") and params["DeploymentId"] not in api.deployments:
            raise bad_request(f"Deployment {params['DeploymentId']} does not exist")
        _copy(_STAGE_FIELDS, params, stage)
        stage["LastUpdatedDate"] = iso(self._clock.time())
        if params.get("AutoDeploy"):
            self._auto_deploy(api)
        self._engine.put(api)
        return dict(stage)

    def delete_stage(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params["ApiId"])
        self._stage_of(api, params["StageName"])
        del api.stages[params["StageName"]]
        self._engine.put(api)

    def create_deployment(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        stage = self._stage_of(api, params["StageName"]) if params.get("StageName") else None
        if stage is not None and stage.get("AutoDeploy"):
            raise bad_request("Cannot create a deployment for a stage with AutoDeploy enabled")
        deployment = self._deploy(api, params.get("Description"), False)
        if stage is not None:
            stage["DeploymentId"] = deployment["DeploymentId"]
            stage["LastUpdatedDate"] = iso(self._clock.time())
        self._engine.put(api)
        return dict(deployment)

    def get_deployment(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        found = api.deployments.get(params["DeploymentId"])
        if found is None:
            raise not_found("Deployment", params["DeploymentId"])
        return dict(found)

    def get_deployments(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params["ApiId"])
        return _page([dict(d) for d in api.deployments.values()], params)


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    out: dict[str, Any] = {"Items": items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out
