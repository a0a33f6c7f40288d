"""AWS::ApiGateway::RestApi / ::Resource / ::Method / ::Deployment / ::Stage (what SAM's Api events make),
provisioned through Lamina's apigateway operations. A RestApi given as an OpenAPI/Swagger `Body` (SAM writes
one) is imported as API Gateway imports it: one resource per path segment, one method per operation with its
`x-amazon-apigateway-integration`, authorizers from its security schemes (openapi_auth.py). An update of the
Body overwrites the API's resources and authorizers (PutRestApi's `overwrite` mode).

`Ref`: RestApi → its id (GetAtt RestApiId, RootResourceId); Resource → its id; Deployment → its id; Stage → its
name; Method → the method id CloudFormation forms (`<api>|<resource>|<method>`)."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation import openapi_auth, s3_bodies
from lamina.services.cloudformation.resource_types import Call, Made, generated_name, quietly

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}


def _lower(fields: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's property names (Type, Uri) as the API's members (type, uri)."""
    return {k[:1].lower() + k[1:]: v for k, v in fields.items()}


def _escape(part: str) -> str:
    """A name as one segment of a patch path (JSON Pointer: `~` → `~0`, `/` → `~1`)."""
    return part.replace("~", "~0").replace("/", "~1")


def _flag(props: dict[str, Any], key: str) -> bool:
    """A Boolean property as a template gives it: true/false, or "true"/"false" from a parameter; absent is false."""
    return str(props.get(key, False)).lower() == "true"


class RestApi:
    GETATT = ("RestApiId", "RootResourceId")  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        body = await s3_bodies.body_of(call, props) or {}
        name = props.get("Name") or body.get("info", {}).get("title") or generated_name(stack, logical, 128)
        params: dict[str, Any] = {"name": str(name)}
        for key in ("Description", "BinaryMediaTypes", "MinimumCompressionSize", "DisableExecuteApiEndpoint"):
            if key in props:
                params[key[:1].lower() + key[1:]] = props[key]
        if props.get("EndpointConfiguration"):
            params["endpointConfiguration"] = {"types": props["EndpointConfiguration"].get("Types", ["EDGE"])}
        if props.get("Tags"):
            params["tags"] = {t["Key"]: str(t["Value"]) for t in props["Tags"]}
        api = await call("apigateway", "CreateRestApi", params)
        made = Made(api["id"], {"RestApiId": api["id"], "RootResourceId": api["rootResourceId"]})
        try:
            if body:
                await self._import(call, api["id"], api["rootResourceId"], body)
        except Exception:
            await self.delete(call, made)
            raise
        return made

    async def _import(self, call: Call, api_id: str, root: str, body: dict[str, Any]) -> None:
        ids = {"/": root}
        authorizers = await openapi_auth.create_rest_authorizers(call, api_id, body)
        for path, methods in (body.get("paths") or {}).items():
            resource = await self._resource(call, api_id, ids, str(path))
            for method, operation in (methods or {}).items():
                if method not in _METHODS:
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                scope = {"restApiId": api_id, "resourceId": resource, "httpMethod": verb}
                auth = openapi_auth.authorization(operation, body, http_api=False)
                method_params: dict[str, Any] = {**scope, "authorizationType": auth.kind}
                if auth.authorizer is not None:
                    method_params["authorizerId"] = authorizers[auth.authorizer]
                if auth.scopes:
                    method_params["authorizationScopes"] = auth.scopes
                if auth.api_key:
                    method_params["apiKeyRequired"] = True
                await call("apigateway", "PutMethod", method_params)
                integration = operation.get("x-amazon-apigateway-integration")
                if integration:
                    params: dict[str, Any] = {**scope, "type": str(integration.get("type", "aws_proxy")).upper()}
                    if integration.get("uri"):
                        params["uri"] = str(integration["uri"])
                    if integration.get("httpMethod"):
                        params["integrationHttpMethod"] = str(integration["httpMethod"]).upper()
                    await call("apigateway", "PutIntegration", params)

    @staticmethod
    async def _resource(call: Call, api_id: str, ids: dict[str, str], path: str) -> str:
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts) + 1):
            here = "/" + "/".join(parts[:depth])
            if here not in ids:
                parent = ids["/" + "/".join(parts[: depth - 1])] if depth > 1 else ids["/"]
                params = {"restApiId": api_id, "parentId": parent, "pathPart": parts[depth - 1]}
                ids[here] = (await call("apigateway", "CreateResource", params))["id"]
        return ids["/" + "/".join(parts)] if parts else ids["/"]

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "apigateway", "DeleteRestApi", {"restApiId": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("Name") or (props.get("Body") or {}).get("info", {}).get("title"):
            return None
        name = generated_name(stack, logical, 128)
        for api in (await call("apigateway", "GetRestApis", {"limit": 500})).get("items", []):
            if api["name"] == name:
                return Made(api["id"], {"RestApiId": api["id"], "RootResourceId": api["rootResourceId"]})
        return None

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        api_id, root = made.physical_id, made.attributes["RootResourceId"]
        patches = [
            {"op": "replace", "path": f"/{key.lower()}", "value": str(new.get(key, ""))}  # a removed one: empty
            for key in ("Name", "Description")
            if old.get(key) != new.get(key) and (key in new or key == "Description")
        ]
        was, now = (
            [str(t) for t in old.get("BinaryMediaTypes") or []],
            [str(t) for t in new.get("BinaryMediaTypes") or []],
        )
        patches += [{"op": "remove", "path": f"/binaryMediaTypes/{_escape(t)}"} for t in was if t not in now]
        patches += [{"op": "add", "path": f"/binaryMediaTypes/{_escape(t)}"} for t in now if t not in was]
        if old.get("MinimumCompressionSize") != new.get("MinimumCompressionSize"):  # removed: compression off
            size = new.get("MinimumCompressionSize")
            patches.append(
                {"op": "replace", "path": "/minimumCompressionSize", "value": "" if size is None else str(size)}
            )
        if _flag(old, "DisableExecuteApiEndpoint") != _flag(new, "DisableExecuteApiEndpoint"):
            value = str(_flag(new, "DisableExecuteApiEndpoint")).lower()
            patches.append({"op": "replace", "path": "/disableExecuteApiEndpoint", "value": value})
        if patches:
            await call("apigateway", "UpdateRestApi", {"restApiId": api_id, "patchOperations": patches})
        if old.get("Body") != new.get("Body") or old.get("BodyS3Location") != new.get("BodyS3Location"):
            resources = (await call("apigateway", "GetResources", {"restApiId": api_id, "limit": 500}))["items"]
            for resource in resources:
                if resource.get("parentId") == root:
                    await call("apigateway", "DeleteResource", {"restApiId": api_id, "resourceId": resource["id"]})
                elif resource["id"] == root:
                    for verb in resource.get("resourceMethods") or {}:
                        params = {"restApiId": api_id, "resourceId": root, "httpMethod": verb}
                        await call("apigateway", "DeleteMethod", params)
            for authorizer in (await call("apigateway", "GetAuthorizers", {"restApiId": api_id})).get("items", []):
                await call("apigateway", "DeleteAuthorizer", {"restApiId": api_id, "authorizerId": authorizer["id"]})
            await self._import(call, api_id, root, await s3_bodies.body_of(call, new) or {})
        return made


class Resource:
    GETATT = ("ResourceId",)  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        api_id = str(props["RestApiId"])
        params = {"restApiId": api_id, "parentId": str(props["ParentId"]), "pathPart": str(props["PathPart"])}
        created = await call("apigateway", "CreateResource", params)
        return Made(created["id"], {"ResourceId": created["id"], "RestApiId": api_id})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"restApiId": made.attributes["RestApiId"], "resourceId": made.physical_id}
        await quietly(call, "apigateway", "DeleteResource", params)


class Method:
    GETATT = ()  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        api_id, resource, verb = str(props["RestApiId"]), str(props["ResourceId"]), str(props["HttpMethod"]).upper()
        scope = {"restApiId": api_id, "resourceId": resource, "httpMethod": verb}
        params: dict[str, Any] = {**scope, "authorizationType": props.get("AuthorizationType") or "NONE"}
        for key in ("AuthorizerId", "ApiKeyRequired", "OperationName", "RequestParameters"):
            if key in props:
                params[key[:1].lower() + key[1:]] = props[key]
        await call("apigateway", "PutMethod", params)
        made = Made(f"{api_id}|{resource}|{verb}", dict(scope))
        try:
            integration = props.get("Integration")
            if integration:
                shaped = _lower({k: v for k, v in integration.items() if k != "IntegrationResponses"})
                shaped["type"] = str(shaped.get("type", "")).upper()
                await call("apigateway", "PutIntegration", {**scope, **shaped})
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "apigateway", "DeleteMethod", dict(made.attributes))

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if any(old.get(k) != new.get(k) for k in ("RestApiId", "ResourceId", "HttpMethod")):
            return None
        await self.delete(call, made)  # a method is put whole: the old one goes, the new one takes its place
        return await self.create(call, "", "", new)


class Deployment:
    GETATT = ("DeploymentId",)  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        api_id = str(props["RestApiId"])
        params: dict[str, Any] = {"restApiId": api_id}
        for key in ("Description", "StageName", "StageDescription"):
            if key in props and not isinstance(props[key], dict):
                params[key[:1].lower() + key[1:]] = str(props[key])
        created = await call("apigateway", "CreateDeployment", params)
        return Made(
            created["id"], {"DeploymentId": created["id"], "RestApiId": api_id, "StageName": props.get("StageName")}
        )

    async def delete(self, call: Call, made: Made) -> None:
        api_id = made.attributes["RestApiId"]
        if made.attributes.get("StageName"):  # the stage it made, unless a newer deployment took it over
            params = {"restApiId": api_id, "stageName": made.attributes["StageName"]}
            try:
                stage = await call("apigateway", "GetStage", params)
            except LaminaError:
                stage = {}
            if stage.get("deploymentId") == made.physical_id:
                await quietly(call, "apigateway", "DeleteStage", params)
        await quietly(call, "apigateway", "DeleteDeployment", {"restApiId": api_id, "deploymentId": made.physical_id})


class Stage:
    GETATT = ()  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        api_id = str(props["RestApiId"])
        name = str(props.get("StageName") or generated_name(stack, logical, 128))
        params: dict[str, Any] = {"restApiId": api_id, "stageName": name, "deploymentId": str(props["DeploymentId"])}
        for key in ("Description", "Variables", "TracingEnabled", "CacheClusterEnabled"):
            if key in props:
                params[key[:1].lower() + key[1:]] = props[key]
        await call("apigateway", "CreateStage", params)
        return Made(name, {"RestApiId": api_id})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"restApiId": made.attributes["RestApiId"], "stageName": made.physical_id}
        await quietly(call, "apigateway", "DeleteStage", params)

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("StageName") != new.get("StageName") or old.get("RestApiId") != new.get("RestApiId"):
            return None
        patches = []
        if old.get("DeploymentId") != new.get("DeploymentId"):
            patches.append({"op": "replace", "path": "/deploymentId", "value": str(new["DeploymentId"])})
        if old.get("Description") != new.get("Description"):
            patches.append({"op": "replace", "path": "/description", "value": str(new.get("Description", ""))})
        if _flag(old, "TracingEnabled") != _flag(new, "TracingEnabled"):  # absent: off, API Gateway's default
            value = str(_flag(new, "TracingEnabled")).lower()
            patches.append({"op": "replace", "path": "/tracingEnabled", "value": value})
        was, now = old.get("Variables") or {}, new.get("Variables") or {}
        for key in was.keys() - now.keys():
            patches.append({"op": "remove", "path": f"/variables/{_escape(key)}"})
        for key, value in now.items():
            if was.get(key) != value:
                patches.append({"op": "replace", "path": f"/variables/{_escape(key)}", "value": str(value)})
        if patches:
            params = {
                "restApiId": made.attributes["RestApiId"],
                "stageName": made.physical_id,
                "patchOperations": patches,
            }
            await call("apigateway", "UpdateStage", params)
        return made
