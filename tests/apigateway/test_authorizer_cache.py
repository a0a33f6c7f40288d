"""REST API Lambda authorizer results are kept for authorizerResultTtlInSeconds, keyed by the identity source,
and a kept policy is judged again for each method ARN (as on AWS, a policy naming one method denies another);
FlushStageAuthorizersCache forgets them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.apigateway.conftest import build_api, make_function
from tests.elbv2.conftest import http_call
from tests.server import LaminaProcess

COUNTING = """
import uuid

def handler(event, context):
    token = event.get("authorizationToken") or event["headers"].get("X-Token")
    return {"principalId": token, "context": {"call": uuid.uuid4().hex},
            "policyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                                              "Resource": event["methodArn"]}]}}
"""


@pytest.mark.parametrize(("kind", "ttl"), [("TOKEN", 300), ("REQUEST", 300), ("TOKEN", 0)])
def test_authorizer_results_are_cached_for_their_ttl(
    lamina: LaminaProcess, apigateway: Any, lambda_client: Any, kind: str, ttl: int
) -> None:
    auth_name, arn = make_function(lambda_client, COUNTING)
    api = build_api(apigateway, lambda_client, stage="s")
    region = apigateway.meta.region_name
    header = "Authorization" if kind == "TOKEN" else "X-Token"
    authorizer = apigateway.create_authorizer(
        restApiId=api.id,
        name="counting",
        type=kind,
        authorizerUri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        identitySource=f"method.request.header.{header}",
        authorizerResultTtlInSeconds=ttl,
    )
    apigateway.put_method(
        restApiId=api.id,
        resourceId=api.resource,
        httpMethod="ANY",
        authorizationType="CUSTOM",
        authorizerId=authorizer["id"],
    )
    apigateway.put_integration(
        restApiId=api.id,
        resourceId=api.resource,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{api.function_arn}/invocations",
    )
    apigateway.create_deployment(restApiId=api.id, stageName="s")

    def call(token: str, path: str = "/s/x") -> tuple[int, Any]:
        answer = http_call(lamina.port, api.host(), path=path, headers=[(header, token)])
        return answer.status, json.loads(answer.body)

    try:
        status, first = call("alice")
        assert status == 200, first
        status, again = call("alice")
        assert status == 200, again
        status, other = call("bob")
        assert status == 200, other
        seen = [e["requestContext"]["authorizer"]["call"] for e in (first, again, other)]
        if ttl:
            assert seen[0] == seen[1] != seen[2]  # the same identity is answered from the cache
            # the kept policy allows only the method ARN it was made for: another path is denied, not re-asked
            assert call("alice", "/s/y") == (403, {"Message": "User is not authorized to access this resource"})
            flushed = apigateway.flush_stage_authorizers_cache(restApiId=api.id, stageName="s")
            assert flushed["ResponseMetadata"]["HTTPStatusCode"] == 202
            status, fresh = call("alice", "/s/y")  # asked again, for this method
            assert status == 200 and fresh["requestContext"]["authorizer"]["call"] != seen[0]
            with pytest.raises(ClientError) as error:
                apigateway.flush_stage_authorizers_cache(restApiId=api.id, stageName="nope")
            assert error.value.response["Error"]["Code"] == "NotFoundException"
        else:
            assert len(set(seen)) == 3
            assert call("alice", "/s/y")[0] == 200
    finally:
        apigateway.delete_rest_api(restApiId=api.id)
        lambda_client.delete_function(FunctionName=api.function)
        lambda_client.delete_function(FunctionName=auth_name)
