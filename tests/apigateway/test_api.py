"""The apigateway API through boto3 and the aws CLI: defaults, status codes and API Gateway's errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.apigateway.conftest import Api, make_function, name
from tests.aws_cli import AWS, cli_environment
from tests.elbv2.conftest import http_call
from tests.front_doors.test_payload_v1 import recorded
from tests.server import LaminaProcess


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return error["Code"], error["Message"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_rest_api_defaults_and_listing(apigateway: Any) -> None:
    api = apigateway.create_rest_api(name=name("api"), description="d")
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert api["apiKeySource"] == "HEADER"
    assert api["endpointConfiguration"]["types"] == ["EDGE"]
    assert api["disableExecuteApiEndpoint"] is False
    assert api["id"] in [a["id"] for a in apigateway.get_rest_apis()["items"]]
    resources = apigateway.get_resources(restApiId=api["id"])["items"]
    assert resources == [{"id": api["rootResourceId"], "path": "/"}]
    updated = apigateway.update_rest_api(
        restApiId=api["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/binaryMediaTypes/image~1png"},
            {"op": "add", "path": "/binaryMediaTypes/*~1*"},
        ],
    )
    assert (updated["name"], updated["binaryMediaTypes"]) == ("renamed", ["image/png", "*/*"])
    updated = apigateway.update_rest_api(
        restApiId=api["id"], patchOperations=[{"op": "remove", "path": "/binaryMediaTypes/image~1png"}]
    )
    assert updated["binaryMediaTypes"] == ["*/*"]
    apigateway.delete_rest_api(restApiId=api["id"])
    code, message, status = error_of(lambda: apigateway.get_rest_api(restApiId=api["id"]))
    assert (code, status) == ("NotFoundException", 404)
    assert message == f"Invalid API identifier specified 000000000000:{api['id']}"


def test_resources_methods_and_their_errors(apigateway: Any) -> None:
    api = apigateway.create_rest_api(name=name("api"))
    root = api["rootResourceId"]
    users = apigateway.create_resource(restApiId=api["id"], parentId=root, pathPart="users")
    user = apigateway.create_resource(restApiId=api["id"], parentId=users["id"], pathPart="{id}")
    assert user["path"] == "/users/{id}"
    assert error_of(lambda: apigateway.create_resource(restApiId=api["id"], parentId=root, pathPart="users")) == (
        "ConflictException",
        "Another resource with the same parent already has this name: users",
        409,
    )
    assert error_of(lambda: apigateway.get_resource(restApiId=api["id"], resourceId="nope")) == (
        "NotFoundException",
        "Invalid Resource identifier specified",
        404,
    )
    want = recorded("test_lambda_aws_integration", "put-method")
    put = apigateway.put_method(restApiId=api["id"], resourceId=user["id"], httpMethod="POST", authorizationType="NONE")
    assert {k: v for k, v in put.items() if k != "ResponseMetadata"} == {
        k: v for k, v in want.items() if k != "ResponseMetadata"
    }
    assert put["ResponseMetadata"]["HTTPStatusCode"] == want["ResponseMetadata"]["HTTPStatusCode"]
    assert error_of(lambda: apigateway.get_method(restApiId=api["id"], resourceId=user["id"], httpMethod="GET"))[
        :2
    ] == (
        "NotFoundException",
        "Invalid Method identifier specified",
    )
    assert error_of(lambda: apigateway.create_deployment(restApiId=api["id"], stageName="s"))[0] == (
        "BadRequestException"
    )
    apigateway.delete_resource(restApiId=api["id"], resourceId=users["id"])
    assert [r["path"] for r in apigateway.get_resources(restApiId=api["id"])["items"]] == ["/"]
    apigateway.delete_rest_api(restApiId=api["id"])


def test_integrations_as_recorded(apigateway: Any, lambda_client: Any) -> None:
    function, arn = make_function(lambda_client)
    api = apigateway.create_rest_api(name=name("api"))
    resource = apigateway.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="test")
    ids = {"restApiId": api["id"], "resourceId": resource["id"], "httpMethod": "POST"}
    apigateway.put_method(**ids, authorizationType="NONE")
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    put = apigateway.put_integration(**ids, type="AWS", integrationHttpMethod="POST", uri=uri, credentials="arn:r")
    want = recorded("test_lambda_aws_integration", "put-integration")
    assert set(put) == set(want)
    assert (put["cacheNamespace"], put["timeoutInMillis"], put["passthroughBehavior"]) == (
        resource["id"],
        29000,
        "WHEN_NO_MATCH",
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    response = apigateway.put_integration_response(**ids, statusCode="200")
    assert response["statusCode"] == "200"
    assert apigateway.put_method_response(**ids, statusCode="200")["statusCode"] == "200"
    assert apigateway.get_integration(**ids)["integrationResponses"]["200"] == {"statusCode": "200"}
    proxy = {**ids, "type": "AWS_PROXY", "integrationHttpMethod": "POST"}
    bad = [
        ("put-integration-wrong-arn", "not-an-arn"),
        ("put-integration-lambda-uri", arn),
        ("put-integration-wrong-firehose", "arn:aws:apigateway:us-east-1:sqs:path/123/queue"),
    ]
    for entry, wrong in bad:
        want = recorded("test_put_integration_aws_proxy_uri", entry)
        code, message, status = error_of(lambda wrong=wrong: apigateway.put_integration(**proxy, uri=wrong))  # type: ignore[misc]
        assert (code, message, status) == (want["Error"]["Code"], want["Error"]["Message"], 400), entry
    deleted = apigateway.delete_integration(**ids)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    want = recorded("test_lambda_aws_integration_with_request_template", "get-integration-after-delete")
    assert error_of(lambda: apigateway.get_integration(**ids)) == (want["Error"]["Code"], want["Error"]["Message"], 404)
    apigateway.delete_rest_api(restApiId=api["id"])
    lambda_client.delete_function(FunctionName=function)


def test_stages_and_deployments(make_api: Callable[..., Api], apigateway: Any) -> None:
    api = make_api()
    stage = apigateway.get_stage(restApiId=api.id, stageName="test")
    deployments = apigateway.get_deployments(restApiId=api.id)["items"]
    assert [d["id"] for d in deployments] == [stage["deploymentId"]]
    second = apigateway.create_stage(
        restApiId=api.id, stageName="prod", deploymentId=stage["deploymentId"], variables={"a": "1"}
    )
    assert second["variables"] == {"a": "1"}
    assert error_of(
        lambda: apigateway.create_stage(restApiId=api.id, stageName="prod", deploymentId=stage["deploymentId"])
    ) == ("ConflictException", "Stage already exists", 409)
    assert sorted(s["stageName"] for s in apigateway.get_stages(restApiId=api.id)["item"]) == ["prod", "test"]
    updated = apigateway.update_stage(
        restApiId=api.id, stageName="prod", patchOperations=[{"op": "remove", "path": "/variables/a"}]
    )
    assert "variables" not in updated
    apigateway.delete_stage(restApiId=api.id, stageName="prod")
    assert error_of(lambda: apigateway.get_stage(restApiId=api.id, stageName="prod")) == (
        "NotFoundException",
        "Invalid Stage identifier specified",
        404,
    )


def test_a_method_change_serves_only_after_a_deployment(
    lamina: LaminaProcess, make_api: Callable[..., Api], apigateway: Any
) -> None:
    api = make_api()
    hello = apigateway.create_resource(restApiId=api.id, parentId=api.root, pathPart="hello")
    apigateway.put_method(restApiId=api.id, resourceId=hello["id"], httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api.id,
        resourceId=hello["id"],
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{api.function_arn}/invocations",
    )
    before = json.loads(http_call(lamina.port, api.host(), path="/test/hello").body)
    assert before["resource"] == "/{proxy+}"
    apigateway.create_deployment(restApiId=api.id, stageName="test")
    after = json.loads(http_call(lamina.port, api.host(), path="/test/hello").body)
    assert (after["resource"], after["pathParameters"]) == ("/hello", None)


def test_health_names_the_service(lamina: LaminaProcess) -> None:
    answer = http_call(lamina.port, "localhost", path="/health")
    assert json.loads(answer.body)["services"]["apigateway"] == "running"


def test_aws_cli(lamina: LaminaProcess, tmp_path: Path, lambda_client: Any) -> None:
    env = cli_environment(tmp_path)

    def aws(*args: str) -> Any:
        done = subprocess.run(
            [str(AWS), "--endpoint-url", lamina.url, "apigateway", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    api = aws("create-rest-api", "--name", name("cli"))
    resource = aws(
        "create-resource", "--rest-api-id", api["id"], "--parent-id", api["rootResourceId"], "--path-part", "{proxy+}"
    )
    assert resource["path"] == "/{proxy+}"
    aws(
        "put-method",
        "--rest-api-id",
        api["id"],
        "--resource-id",
        resource["id"],
        "--http-method",
        "ANY",
        "--authorization-type",
        "NONE",
    )
    assert [r["path"] for r in aws("get-resources", "--rest-api-id", api["id"])["items"]] == ["/", "/{proxy+}"]
    function, arn = make_function(lambda_client)
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    aws(
        "put-integration",
        "--rest-api-id",
        api["id"],
        "--resource-id",
        resource["id"],
        "--http-method",
        "ANY",
        "--type",
        "AWS_PROXY",
        "--integration-http-method",
        "POST",
        "--uri",
        uri,
    )
    lambda_client.add_permission(
        FunctionName=function,
        StatementId="cli",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api['id']}/*/GET/{{proxy+}}",
    )
    aws("create-deployment", "--rest-api-id", api["id"], "--stage-name", "dev")
    answer = http_call(lamina.port, f"{api['id']}.execute-api.localhost", path="/dev/from/cli")
    assert json.loads(answer.body)["pathParameters"] == {"proxy": "from/cli"}
    denied = http_call(lamina.port, f"{api['id']}.execute-api.localhost", "POST", "/dev/from/cli", body=b"")
    assert denied.status == 500  # the permission names GET only
    aws("delete-rest-api", "--rest-api-id", api["id"])
    lambda_client.delete_function(FunctionName=function)
