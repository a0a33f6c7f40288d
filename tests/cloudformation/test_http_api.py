"""SAM's HttpApi event through CloudFormation: the implicit AWS::ApiGatewayV2::Api (an OpenAPI body) and its
$default stage are made through Lamina's apigatewayv2 operations, and an HTTP request to the route reaches the
function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, http_json, outputs
from tests.server import LaminaProcess

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        import json
        def handler(event, context):
            body = {"path": event["rawPath"], "who": event["pathParameters"]["name"]}
            return {"statusCode": 200, "body": json.dumps(body)}
      Events:
        Greet:
          Type: HttpApi
          Properties:
            Path: /hello/{name}
            Method: GET
Outputs:
  Endpoint:
    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
  ApiId:
    Value: !Ref ServerlessHttpApi
"""


def test_sam_http_api_route_reaches_function(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(SAM)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    api_id = outputs(stack)["ApiId"]
    v2 = lamina.client("apigatewayv2")
    routes = [r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]]
    assert routes == ["GET /hello/{name}"]
    assert [s["StageName"] for s in v2.get_stages(ApiId=api_id)["Items"]] == ["$default"]
    answer = http_json(lamina, f"{api_id}.execute-api.localhost", "/hello/ana")
    assert answer == (200, {"path": "/hello/ana", "who": "ana"})
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        v2.get_api(ApiId=api_id)
