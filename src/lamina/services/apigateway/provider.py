"""The apigateway API for REST APIs (rest-json, 2015-07-09): REST APIs, resources, methods, integrations,
method and integration responses, deployments, stages and Lambda authorizers, with API Gateway's errors
(NotFoundException 404, BadRequestException 400, ConflictException 409)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from typing import Any

from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.services.apigateway.engine import ApiGatewayEngine, RestApi
from lamina.types import CallContext

_ID_CHARS = string.ascii_lowercase + string.digits
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
_PATH_PART = re.compile(r"^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:@~!$&'()*+,;=-]+)$")
# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function-arn>/invocations
_LAMBDA_URI = re.compile(r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(.+)/invocations$")
_AWS_URI = re.compile(r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:([a-z0-9-]+):(path|action)/.+$")
PAGE = 25


def new_id(length: int = 10) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def not_found(what: str) -> ServiceFault:
    return ServiceFault("NotFoundException", f"Invalid {what} identifier specified", 404)


def bad_request(message: str) -> ServiceFault:
    return ServiceFault("BadRequestException", message, 400)


def lambda_function_of(uri: str) -> str | None:
    """The function ARN an AWS_PROXY integration's Lambda invocation URI names."""
    m = _LAMBDA_URI.match(uri or "")
    return m.group(1) if m else None


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = int(params.get("position") or 0)
    size = int(params.get("limit") or PAGE)
    out: dict[str, Any] = {"items": items[start : start + size]}
    if start + size < len(items):
        out["position"] = str(start + size)
    return out


class ApiGatewayProvider:
    def __init__(
        self, engine: ApiGatewayEngine, clock: Clock, flush_authorizers: Callable[[str], None] | None = None
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._flush_authorizers = flush_authorizers  # forgets an API's kept authorizer answers (the REST door's)

    # -- lookups --------------------------------------------------------------------------------
    def _api(self, ctx: CallContext, params: dict[str, Any]) -> RestApi:
        api = self._engine.apis.get(params.get("restApiId") or "")
        if api is None or api.region != ctx.region or api.account != ctx.account_id:
            raise ServiceFault(
                "NotFoundException", f"Invalid API identifier specified {ctx.account_id}:{params.get('restApiId')}", 404
            )
        return api

    @staticmethod
    def _resource(api: RestApi, resource_id: str | None) -> dict[str, Any]:
        resource = api.resources.get(resource_id or "")
        if resource is None:
            raise not_found("Resource")
        return resource

    def _method(self, api: RestApi, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._resource(api, params.get("resourceId"))
        method: dict[str, Any] | None = (resource.get("resourceMethods") or {}).get(params.get("httpMethod") or "")
        if method is None:
            raise not_found("Method")
        return method

    # -- REST APIs ------------------------------------------------------------------------------
    def create_rest_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = new_id()
        root_id = new_id()
        doc: dict[str, Any] = {
            "id": api_id,
            "name": params["name"],
            "createdDate": int(self._clock.time()),
            "apiKeySource": params.get("apiKeySource") or "HEADER",
            "endpointConfiguration": params.get("endpointConfiguration") or {"types": ["EDGE"]},
            "disableExecuteApiEndpoint": bool(params.get("disableExecuteApiEndpoint", False)),
            "rootResourceId": root_id,
        }
        for key in ("description", "version", "binaryMediaTypes", "minimumCompressionSize", "policy", "tags"):
            if params.get(key) is not None:
                doc[key] = params[key]
        if "ipAddressType" not in doc["endpointConfiguration"]:
            doc["endpointConfiguration"] = {**doc["endpointConfiguration"], "ipAddressType": "ipv4"}
        api = RestApi(api_id, ctx.region, ctx.account_id, doc)
        api.resources[root_id] = {"id": root_id, "path": "/"}
        self._engine.save(api)
        return dict(doc)

    def get_rest_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._api(ctx, params).doc)

    def get_rest_apis(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        apis = [a for a in self._engine.apis.values() if a.region == ctx.region and a.account == ctx.account_id]
        apis.sort(key=lambda a: (a.doc.get("createdDate", 0), a.id))
        return _page([dict(a.doc) for a in apis], params)

    def update_rest_api(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        doc = dict(api.doc)
        for patch in params.get("patchOperations") or []:
            op, path, value = patch.get("op"), patch.get("path") or "", patch.get("value")
            if path.startswith("/binaryMediaTypes/"):
                kind = _unescape(path[len("/binaryMediaTypes/") :])
                types = [t for t in doc.get("binaryMediaTypes") or [] if t != kind]
                if op in ("add", "replace"):
                    types.append(value if op == "replace" and value else kind)
                doc["binaryMediaTypes"] = types
            elif path in ("/name", "/description", "/version", "/apiKeySource", "/policy") and op == "replace":
                doc[path[1:]] = value
            elif path == "/disableExecuteApiEndpoint" and op == "replace":
                doc["disableExecuteApiEndpoint"] = str(value).lower() == "true"
            elif path == "/minimumCompressionSize" and op == "replace":
                doc["minimumCompressionSize"] = int(value) if value else None
            else:
                raise bad_request(
                    f"Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [add, remove]"
                )
        if not doc.get("binaryMediaTypes"):
            doc.pop("binaryMediaTypes", None)
        api.doc = {k: v for k, v in doc.items() if v is not None}
        self._engine.save(api)
        return dict(api.doc)

    def delete_rest_api(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete(self._api(ctx, params))

    # -- resources ------------------------------------------------------------------------------
    def get_resources(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        items = sorted(api.resources.values(), key=lambda r: r["path"])
        embed = "methods" in (params.get("embed") or [])
        return _page([self._resource_view(r, embed) for r in items], params)

    def get_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        return self._resource_view(
            self._resource(api, params.get("resourceId")), "methods" in (params.get("embed") or [])
        )

    @staticmethod
    def _resource_view(resource: dict[str, Any], embed: bool) -> dict[str, Any]:
        view = {k: v for k, v in resource.items() if k != "resourceMethods"}
        methods = resource.get("resourceMethods")
        if methods:
            view["resourceMethods"] = methods if embed else {name: {} for name in methods}
        return view

    def create_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        parent = self._resource(api, params.get("parentId"))
        part: str = params["pathPart"]
        if not _PATH_PART.match(part):
            raise bad_request(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an "
                "optional plus sign before the closing brace."
            )
        siblings = [r for r in api.resources.values() if r.get("parentId") == parent["id"]]
        if any(r["pathPart"] == part for r in siblings):
            raise ServiceFault(
                "ConflictException", f"Another resource with the same parent already has this name: {part}", 409
            )
        if part.startswith("{") and any(r["pathPart"].startswith("{") for r in siblings):
            raise bad_request(
                "A sibling ({" + siblings[0]["pathPart"][1:-1] + "}) of this resource already has a "
                "variable path part -- only one is allowed"
            )
        if parent["path"] != "/" and parent.get("pathPart", "").endswith("+}"):
            raise bad_request("Cannot create a child of a resource with a greedy path variable: " + parent["pathPart"])
        resource_id = new_id(6)
        path = ("" if parent["path"] == "/" else parent["path"]) + "/" + part
        resource = {"id": resource_id, "parentId": parent["id"], "pathPart": part, "path": path}
        api.resources[resource_id] = resource
        self._engine.save(api)
        return dict(resource)

    def delete_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        resource = self._resource(api, params.get("resourceId"))
        if resource.get("parentId") is None:
            raise bad_request("Cannot delete root resource")
        doomed = {resource["id"]}
        changed = True
        while changed:
            more = {r["id"] for r in api.resources.values() if r.get("parentId") in doomed} - doomed
            changed = bool(more)
            doomed |= more
        for resource_id in doomed:
            api.resources.pop(resource_id, None)
        self._engine.save(api)

    # -- methods --------------------------------------------------------------------------------
    def put_method(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        resource = self._resource(api, params.get("resourceId"))
        http_method: str = params["httpMethod"]
        if http_method not in _METHODS:
            raise bad_request(
                "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
            )
        authorization: str = params["authorizationType"]
        if authorization == "CUSTOM" and params.get("authorizerId") not in api.authorizers:
            raise bad_request(
                "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                "COGNITO_USER_POOLS requires a valid authorizer."
            )
        method: dict[str, Any] = {
            "httpMethod": http_method,
            "authorizationType": authorization,
            "apiKeyRequired": bool(params.get("apiKeyRequired", False)),
        }
        for key in (
            "authorizerId",
            "operationName",
            "requestParameters",
            "requestModels",
            "requestValidatorId",
            "authorizationScopes",
        ):
            if params.get(key) is not None:
                method[key] = params[key]
        resource.setdefault("resourceMethods", {})[http_method] = method
        self._engine.save(api)
        return dict(method)

    def get_method(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._method(self._api(ctx, params), params))

    def delete_method(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        self._method(api, params)
        resource = self._resource(api, params.get("resourceId"))
        methods = resource["resourceMethods"]
        methods.pop(params["httpMethod"], None)
        if not methods:
            resource.pop("resourceMethods")
        self._engine.save(api)

    def put_method_response(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        method = self._method(api, params)
        response: dict[str, Any] = {"statusCode": params["statusCode"]}
        for key in ("responseParameters", "responseModels"):
            if params.get(key) is not None:
                response[key] = params[key]
        method.setdefault("methodResponses", {})[params["statusCode"]] = response
        self._engine.save(api)
        return dict(response)

    def get_method_response(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        method = self._method(self._api(ctx, params), params)
        found = (method.get("methodResponses") or {}).get(params["statusCode"])
        if found is None:
            raise not_found("Response status code")
        return dict(found)

    # -- integrations ---------------------------------------------------------------------------
    def put_integration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        method = self._method(api, params)
        kind: str = params["type"]
        uri = params.get("uri") or ""
        if kind in ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY"):
            if not params.get("integrationHttpMethod"):
                raise bad_request("Enumeration value for HttpMethod must be non-empty")
            if not uri:
                raise bad_request(
                    "Integrations of type 'AWS' and 'AWS_PROXY' require a URI"
                    if kind.startswith("AWS")
                    else "Invalid HTTP endpoint specified for URI"
                )
        if kind in ("AWS", "AWS_PROXY"):
            if not uri.startswith("arn:"):
                raise bad_request("Invalid ARN specified in the request")
            match = _AWS_URI.match(uri)
            if match is None:
                raise bad_request("AWS ARN for integration must contain path or action")
            if kind == "AWS_PROXY" and (
                match.group(1) not in ("lambda", "firehose")
                or (match.group(1) == "lambda" and lambda_function_of(uri) is None)
            ):
                raise bad_request(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream "
                    "invocations."
                )
        integration: dict[str, Any] = {
            "type": kind,
            "passthroughBehavior": params.get("passthroughBehavior") or "WHEN_NO_MATCH",
            "timeoutInMillis": int(params.get("timeoutInMillis") or 29000),
            "cacheNamespace": params.get("cacheNamespace") or params["resourceId"],
            "cacheKeyParameters": params.get("cacheKeyParameters") or [],
        }
        if params.get("integrationHttpMethod"):
            integration["httpMethod"] = params["integrationHttpMethod"]
        for key in (
            "uri",
            "connectionType",
            "connectionId",
            "credentials",
            "requestParameters",
            "requestTemplates",
            "contentHandling",
            "tlsConfig",
        ):
            if params.get(key) is not None:
                integration[key] = params[key]
        method["methodIntegration"] = integration
        self._engine.save(api)
        return dict(integration)

    def get_integration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self._method(self._api(ctx, params), params).get("methodIntegration")
        if found is None:
            raise not_found("Integration")
        return dict(found)

    def delete_integration(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        method = self._method(api, params)
        if method.pop("methodIntegration", None) is None:
            raise not_found("Integration")
        self._engine.save(api)

    def put_integration_response(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        integration = self._method(api, params).get("methodIntegration")
        if integration is None:
            raise not_found("Integration")
        response: dict[str, Any] = {"statusCode": params["statusCode"]}
        for key in ("selectionPattern", "responseParameters", "responseTemplates", "contentHandling"):
            if params.get(key) is not None:
                response[key] = params[key]
        integration.setdefault("integrationResponses", {})[params["statusCode"]] = response
        self._engine.save(api)
        return dict(response)

    def get_integration_response(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        integration = self._method(self._api(ctx, params), params).get("methodIntegration") or {}
        found = (integration.get("integrationResponses") or {}).get(params["statusCode"])
        if found is None:
            raise not_found("Response status code")
        return dict(found)

    # -- deployments and stages -----------------------------------------------------------------
    def create_deployment(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        if not any(r.get("resourceMethods") for r in api.resources.values()):
            raise bad_request("The REST API doesn't contain any methods")
        for resource in api.resources.values():
            for method in (resource.get("resourceMethods") or {}).values():
                if "methodIntegration" not in method:
                    raise bad_request("No integration defined for method")
        deployment: dict[str, Any] = {"id": new_id(6), "createdDate": int(self._clock.time())}
        if params.get("description") is not None:
            deployment["description"] = params["description"]
        api.deployments[deployment["id"]] = {"deployment": deployment, "resources": self._engine.snapshot(api)}
        stage_name = params.get("stageName")
        if stage_name:
            stage = api.stages.get(stage_name)
            if stage is None:
                stage = self._new_stage(stage_name, deployment["id"], params.get("stageDescription"), params)
                api.stages[stage_name] = stage
            else:
                stage["deploymentId"] = deployment["id"]
                if params.get("variables") is not None:
                    stage["variables"] = {**(stage.get("variables") or {}), **params["variables"]}
                stage["lastUpdatedDate"] = int(self._clock.time())
        self._engine.save(api)
        return dict(deployment)

    def get_deployments(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        items = sorted((d["deployment"] for d in api.deployments.values()), key=lambda d: d["createdDate"])
        return _page([dict(d) for d in items], params)

    def get_deployment(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self._api(ctx, params).deployments.get(params.get("deploymentId") or "")
        if found is None:
            raise not_found("Deployment")
        return dict(found["deployment"])

    def delete_deployment(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        deployment_id = params.get("deploymentId") or ""
        if deployment_id not in api.deployments:
            raise not_found("Deployment")
        if any(s.get("deploymentId") == deployment_id for s in api.stages.values()):
            raise bad_request("Active stages pointing to this deployment must be moved or deleted")
        del api.deployments[deployment_id]
        self._engine.save(api)

    def _new_stage(
        self, name: str, deployment_id: str, description: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        now = int(self._clock.time())
        stage: dict[str, Any] = {
            "deploymentId": deployment_id,
            "stageName": name,
            "cacheClusterEnabled": bool(params.get("cacheClusterEnabled", False)),
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {},
            "tracingEnabled": bool(params.get("tracingEnabled", False)),
            "createdDate": now,
            "lastUpdatedDate": now,
        }
        if description is not None:
            stage["description"] = description
        if params.get("variables"):
            stage["variables"] = dict(params["variables"])
        if params.get("tags"):
            stage["tags"] = dict(params["tags"])
        return stage

    def create_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        name: str = params["stageName"]
        if params["deploymentId"] not in api.deployments:
            raise not_found("Deployment")
        if name in api.stages:
            raise ServiceFault("ConflictException", "Stage already exists", 409)
        stage = self._new_stage(name, params["deploymentId"], params.get("description"), params)
        api.stages[name] = stage
        self._engine.save(api)
        return dict(stage)

    def _stage(self, api: RestApi, name: str | None) -> dict[str, Any]:
        stage = api.stages.get(name or "")
        if stage is None:
            raise not_found("Stage")
        return stage

    def get_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._stage(self._api(ctx, params), params.get("stageName")))

    def flush_stage_authorizers_cache(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        self._stage(api, params.get("stageName"))
        if self._flush_authorizers is not None:
            self._flush_authorizers(api.id)  # Lamina keeps answers per API: every stage's go

    def get_stages(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        wanted = params.get("deploymentId")
        items = [dict(s) for s in api.stages.values() if not wanted or s.get("deploymentId") == wanted]
        return {"item": sorted(items, key=lambda s: s["stageName"])}

    def update_stage(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        stage = self._stage(api, params.get("stageName"))
        for patch in params.get("patchOperations") or []:
            op, path, value = patch.get("op"), patch.get("path") or "", patch.get("value")
            if path.startswith("/variables/"):
                name = _unescape(path[len("/variables/") :])
                variables = dict(stage.get("variables") or {})
                if op == "remove":
                    variables.pop(name, None)
                else:
                    variables[name] = value or ""
                if variables:
                    stage["variables"] = variables
                else:
                    stage.pop("variables", None)
            elif path == "/deploymentId" and op == "replace":
                if value not in api.deployments:
                    raise not_found("Deployment")
                stage["deploymentId"] = value
            elif path == "/description" and op == "replace":
                stage["description"] = value
            elif path == "/tracingEnabled" and op == "replace":
                stage["tracingEnabled"] = str(value).lower() == "true"
            else:
                raise bad_request(f"Invalid patch path '{path}' specified for op '{op}'.")
        stage["lastUpdatedDate"] = int(self._clock.time())
        self._engine.save(api)
        return dict(stage)

    def delete_stage(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        self._stage(api, params.get("stageName"))
        del api.stages[params["stageName"]]
        self._engine.save(api)

    # -- authorizers ----------------------------------------------------------------------------
    def create_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        kind: str = params["type"]
        if kind in ("TOKEN", "REQUEST") and lambda_function_of(params.get("authorizerUri") or "") is None:
            raise bad_request("Invalid Authorizer URI: " + str(params.get("authorizerUri")))
        if kind == "TOKEN" and not params.get("identitySource"):
            raise bad_request("IdentitySource is required for authorizer of type TOKEN")
        authorizer: dict[str, Any] = {"id": new_id(6), "name": params["name"], "type": kind}
        for key in (
            "providerARNs",
            "authType",
            "authorizerUri",
            "authorizerCredentials",
            "identitySource",
            "identityValidationExpression",
        ):
            if params.get(key) is not None:
                authorizer[key] = params[key]
        authorizer["authorizerResultTtlInSeconds"] = int(params.get("authorizerResultTtlInSeconds", 300))
        api.authorizers[authorizer["id"]] = authorizer
        self._engine.save(api)
        return dict(authorizer)

    def _authorizer(self, api: RestApi, authorizer_id: str | None) -> dict[str, Any]:
        found = api.authorizers.get(authorizer_id or "")
        if found is None:
            raise not_found("Authorizer")
        return found

    def get_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._authorizer(self._api(ctx, params), params.get("authorizerId")))

    def get_authorizers(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self._api(ctx, params)
        return _page([dict(a) for a in api.authorizers.values()], params)

    def delete_authorizer(self, ctx: CallContext, params: dict[str, Any]) -> None:
        api = self._api(ctx, params)
        self._authorizer(api, params.get("authorizerId"))
        del api.authorizers[params["authorizerId"]]
        self._engine.save(api)
