"""apigatewayv2 through boto3: HTTP APIs, quick create, routes, integrations, stages, deployments, AWS's
errors, and that all of it survives a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.apigatewayv2.conftest import ECHO, grant
from tests.conftest import make_zip
from tests.elbv2.conftest import http_call
from tests.server import ROLE, LaminaProcess


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_quick_create_makes_integration_default_route_and_auto_deployed_stage(apigw: Any) -> None:
    target = "arn:aws:lambda:us-east-1:000000000000:function:quick"
    api = apigw.create_api(Name="quick", ProtocolType="HTTP", Target=target)
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert api["ProtocolType"] == "HTTP" and api["RouteSelectionExpression"] == "$request.method $request.path"
    assert api["ApiEndpoint"].startswith(f"http://{api['ApiId']}.execute-api.localhost")
    api_id = api["ApiId"]
    (integration,) = apigw.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY" and integration["IntegrationUri"] == target
    assert integration["PayloadFormatVersion"] == "2.0" and integration["ApiGatewayManaged"] is True
    (route,) = apigw.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "$default" and route["Target"] == f"integrations/{integration['IntegrationId']}"
    (stage,) = apigw.get_stages(ApiId=api_id)["Items"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True and stage["DeploymentId"]
    assert apigw.get_api(ApiId=api_id)["Name"] == "quick"
    assert api_id in [a["ApiId"] for a in apigw.get_apis()["Items"]]
    apigw.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as error:
        apigw.get_api(ApiId=api_id)
    assert _code(error) == ("NotFoundException", 404)
    assert error.value.response["Error"]["Message"] == f"Invalid API identifier specified 000000000000:{api_id}"


def test_routes_and_integrations_crud_with_awss_errors(apigw: Any) -> None:
    api_id = apigw.create_api(Name="crud", ProtocolType="HTTP")["ApiId"]
    try:
        integration = apigw.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri="arn:aws:lambda:us-east-1:000000000000:function:x",
            PayloadFormatVersion="1.0",
        )
        assert integration["PayloadFormatVersion"] == "1.0" and integration["TimeoutInMillis"] == 30000
        target = f"integrations/{integration['IntegrationId']}"
        route = apigw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=target)
        assert route["AuthorizationType"] == "NONE" and route["ApiKeyRequired"] is False
        with pytest.raises(ClientError) as error:
            apigw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=target)
        assert _code(error) == ("ConflictException", 409)
        with pytest.raises(ClientError) as error:
            apigw.create_route(ApiId=api_id, RouteKey="FETCH items")
        assert _code(error) == ("BadRequestException", 400)
        with pytest.raises(ClientError) as error:
            apigw.delete_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])
        assert _code(error) == ("ConflictException", 409)
        updated = apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="ANY /{proxy+}")
        assert apigw.get_route(ApiId=api_id, RouteId=route["RouteId"])["RouteKey"] == updated["RouteKey"]
        apigw.update_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"], TimeoutInMillis=5000)
        got = apigw.get_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])
        assert got["TimeoutInMillis"] == 5000
        apigw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
        with pytest.raises(ClientError) as error:
            apigw.get_route(ApiId=api_id, RouteId=route["RouteId"])
        assert _code(error) == ("NotFoundException", 404)
        apigw.delete_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])
        assert apigw.get_integrations(ApiId=api_id)["Items"] == []
    finally:
        apigw.delete_api(ApiId=api_id)


def test_stages_and_deployments(apigw: Any) -> None:
    api_id = apigw.create_api(Name="stages", ProtocolType="HTTP")["ApiId"]
    try:
        stage = apigw.create_stage(ApiId=api_id, StageName="prod", StageVariables={"color": "blue"})
        assert stage["AutoDeploy"] is False and "DeploymentId" not in stage
        deployment = apigw.create_deployment(ApiId=api_id, StageName="prod")
        assert deployment["DeploymentStatus"] == "DEPLOYED"
        assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment["DeploymentId"]
        assert [d["DeploymentId"] for d in apigw.get_deployments(ApiId=api_id)["Items"]] == [deployment["DeploymentId"]]
        with pytest.raises(ClientError) as error:
            apigw.create_stage(ApiId=api_id, StageName="prod")
        assert _code(error) == ("ConflictException", 409)
        apigw.delete_stage(ApiId=api_id, StageName="prod")
        with pytest.raises(ClientError) as error:
            apigw.get_stage(ApiId=api_id, StageName="prod")
        assert _code(error) == ("NotFoundException", 404)
    finally:
        apigw.delete_api(ApiId=api_id)


def test_websocket_apis_are_refused(apigw: Any) -> None:
    with pytest.raises(ClientError) as error:
        apigw.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert _code(error) == ("BadRequestException", 400)


@pytest.mark.slow
def test_apis_survive_a_restart_and_still_serve(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    lam = server.client("lambda")
    function = lam.create_function(
        FunctionName="durable",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})},
    )["FunctionArn"]
    client = server.client("apigatewayv2")
    api = client.create_api(Name="durable", ProtocolType="HTTP", Target=function)
    (integration,) = client.get_integrations(ApiId=api["ApiId"])["Items"]
    client.update_integration(
        ApiId=api["ApiId"], IntegrationId=integration["IntegrationId"], PayloadFormatVersion="1.0"
    )
    grant(lam, function, api["ApiId"])
    routes = client.get_routes(ApiId=api["ApiId"])["Items"]
    server.stop()
    server.start()
    client = server.client("apigatewayv2")
    assert client.get_api(ApiId=api["ApiId"])["Name"] == "durable"
    assert client.get_routes(ApiId=api["ApiId"])["Items"] == routes
    assert client.get_stage(ApiId=api["ApiId"], StageName="$default")["AutoDeploy"] is True
    answer = http_call(server.port, f"{api['ApiId']}.execute-api.localhost", "GET", "/after")
    assert answer.status == 200 and json.loads(answer.body)["path"] == "/after"
