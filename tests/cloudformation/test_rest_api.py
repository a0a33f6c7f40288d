"""AWS::ApiGateway::* through CloudFormation: a REST API written resource by resource (RestApi, Resource,
Method with a Lambda proxy integration, Deployment, Stage) answers on its stage; SAM's Api event (an OpenAPI
Body) is imported, and an update of its path overwrites the API's routes and moves the stage to the new
deployment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.cloudformation.conftest import FAST, failures, http_json, outputs
from tests.server import LaminaProcess

HANDWRITTEN = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          import json
          def handler(event, context):
              return {"statusCode": 200, "body": json.dumps({"resource": event["resource"]})}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: !Sub "${AWS::StackName}-api"
  Pets:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !GetAtt Api.RootResourceId
      PathPart: pets
  GetPets:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Pets
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  Allow:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/pets"
  Release:
    Type: AWS::ApiGateway::Deployment
    DependsOn: GetPets
    Properties:
      RestApiId: !Ref Api
  Live:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Release
      StageName: live
Outputs:
  Api:
    Value: !Ref Api
  Root:
    Value: !GetAtt Api.RootResourceId
  Pets:
    Value: !Ref Pets
  Release:
    Value: !Ref Release
  Stage:
    Value: !Ref Live
"""


def _get(lamina: LaminaProcess, api: str, path: str) -> tuple[int, Any]:
    return http_json(lamina, f"{api}.execute-api.localhost", path)


def test_handwritten_rest_api(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(HANDWRITTEN)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, name)
    out = outputs(stack)
    apigw = lamina.client("apigateway")
    api = apigw.get_rest_api(restApiId=out["Api"])
    assert (api["name"], api["rootResourceId"]) == (f"{name}-api", out["Root"])
    assert apigw.get_resource(restApiId=out["Api"], resourceId=out["Pets"])["path"] == "/pets"
    stage = apigw.get_stage(restApiId=out["Api"], stageName="live")
    assert stage["deploymentId"] == out["Release"] and out["Stage"] == "live"
    assert _get(lamina, out["Api"], "/live/pets") == (200, {"resource": "/pets"})
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    assert out["Api"] not in {a["id"] for a in apigw.get_rest_apis()["items"]}


SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        import json
        def handler(event, context):
            return {"statusCode": 200, "body": json.dumps({"path": event["path"]})}
      Events:
        Rest:
          Type: Api
          Properties:
            Path: PATH
            Method: GET
Outputs:
  Api:
    Value: !Ref ServerlessRestApi
"""


def test_sam_api_update_moves_the_routes(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(SAM.replace("PATH", "/first"))
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, name)
    api = stack["Outputs"][0]["OutputValue"]
    assert _get(lamina, api, "/Prod/first") == (200, {"path": "/first"})
    cfn.update_stack(
        StackName=name,
        TemplateBody=SAM.replace("PATH", "/second"),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0]["OutputValue"] == api  # updated in place
    assert _get(lamina, api, "/Prod/second") == (200, {"path": "/second"})
    status, _ = _get(lamina, api, "/Prod/first")
    assert status in (403, 404)
    paths = sorted(r["path"] for r in lamina.client("apigateway").get_resources(restApiId=api)["items"])
    assert paths == ["/", "/second"]


SWAGGER = """
swagger: "2.0"
info: {title: from-s3}
paths:
  /pets/{id}:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/FN/invocations
"""


def test_rest_api_body_from_s3(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    s3 = lamina.client("s3")
    bucket = f"api-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    function = "arn:aws:lambda:us-east-1:000000000000:function:f"
    s3.put_object(Bucket=bucket, Key="api.yaml", Body=SWAGGER.replace("FN", function).encode())
    try:
        body = "Resources:\n  Api:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n"
        stack = deploy(body + f"      BodyS3Location: {{Bucket: {bucket}, Key: api.yaml}}\n")
        assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, stack["StackName"])
        api = cfn.describe_stack_resource(StackName=stack["StackName"], LogicalResourceId="Api")
        api_id = api["StackResourceDetail"]["PhysicalResourceId"]
        paths = sorted(r["path"] for r in lamina.client("apigateway").get_resources(restApiId=api_id)["items"])
        assert paths == ["/", "/pets", "/pets/{id}"]
        missing = deploy(body + f"      BodyS3Location: {{Bucket: {bucket}, Key: none.yaml}}\n")
        assert missing["StackStatus"] == "ROLLBACK_COMPLETE"
        assert failures(cfn, missing["StackName"])[-1] == (
            "Api",
            f"Unable to get object none.yaml from bucket {bucket}: The specified key does not exist.",
        )
    finally:
        for key in ("api.yaml",):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
