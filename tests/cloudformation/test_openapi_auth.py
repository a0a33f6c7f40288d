"""Authorizers in the OpenAPI bodies SAM's Auth writes (x-amazon-apigateway-authorizer): a Lambda TOKEN authorizer
on a REST API and a Lambda REQUEST authorizer with simple responses on an HTTP API, both enforced at their doors
after `CreateStack`, through boto3 and plain HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.cloudformation.conftest import events, outputs
from tests.server import LaminaProcess

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Gate:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            if "authorizationToken" in event:  # REST TOKEN authorizer: an IAM policy
                effect = "Allow" if event["authorizationToken"] == "let-me-in" else "Deny"
                return {"principalId": "user", "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
            return {"isAuthorized": event["headers"].get("authorization") == "let-me-in"}  # HTTP simple response
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Token
        Authorizers:
          Token:
            FunctionArn: !GetAtt Gate.Arn
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt Gate.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            EnableFunctionDefaultPermissions: true  # without it SAM grants API Gateway no invoke (500 on AWS too)
            Identity:
              Headers: [Authorization]
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"statusCode": 200, "body": "inside"}
      Events:
        RestGet:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /secret
            Method: GET
        HttpGet:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /secret
            Method: GET
Outputs:
  Rest: {Value: !Ref Rest}
  Http: {Value: !Ref Http}
"""


def _status(lamina: LaminaProcess, host: str, path: str, token: str | None) -> int:
    headers = {"Host": host, **({"Authorization": token} if token else {})}
    request = urllib.request.Request(f"{lamina.url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.read() == b"inside"
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_authorizers_from_sam_auth(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(SAM)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, stack["StackName"])
    out = outputs(stack)
    (rest_authorizer,) = lamina.client("apigateway").get_authorizers(restApiId=out["Rest"])["items"]
    assert (rest_authorizer["name"], rest_authorizer["type"]) == ("Token", "TOKEN")
    assert rest_authorizer["identitySource"] == "method.request.header.Authorization"
    (http_authorizer,) = lamina.client("apigatewayv2").get_authorizers(ApiId=out["Http"])["Items"]
    assert (http_authorizer["Name"], http_authorizer["AuthorizerType"]) == ("Simple", "REQUEST")
    routes = lamina.client("apigatewayv2").get_routes(ApiId=out["Http"])["Items"]
    assert [(r["RouteKey"], r["AuthorizationType"], r.get("AuthorizerId")) for r in routes] == [
        ("GET /secret", "CUSTOM", http_authorizer["AuthorizerId"])
    ]
    rest = f"{out['Rest']}.execute-api.localhost"
    assert _status(lamina, rest, "/Prod/secret", None) == 401
    assert _status(lamina, rest, "/Prod/secret", "wrong") == 403
    assert _status(lamina, rest, "/Prod/secret", "let-me-in") == 200
    http = f"{out['Http']}.execute-api.localhost"
    assert _status(lamina, http, "/secret", None) == 401
    assert _status(lamina, http, "/secret", "wrong") == 403
    assert _status(lamina, http, "/secret", "let-me-in") == 200
