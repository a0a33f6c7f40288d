"""The resource types SAM emits beside functions, and policies users write: AWS::Lambda::Url and
EventInvokeConfig (SAM's FunctionUrlConfig and EventInvokeConfig), AWS::IAM::Policy and ManagedPolicy,
AWS::SQS::QueuePolicy, AWS::SNS::Subscription with a Lambda permission (SAM's SNS event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, http, outputs
from tests.server import LaminaProcess

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  Failures:
    Type: AWS::SQS::Queue
  Web:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"statusCode": 200, "body": "from the url"}
      FunctionUrlConfig:
        AuthType: NONE
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt Failures.Arn
      Events:
        Alert:
          Type: SNS
          Properties:
            Topic: !Ref Alerts
Outputs:
  Url:
    Value: !GetAtt WebUrl.FunctionUrl
  Function:
    Value: !Ref Web
"""
POLICIES = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Inline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: send
      Roles: [!Ref Role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}]
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: sns:Publish, Resource: "*"}]
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
"""


def test_sam_url_event_invoke_config_and_sns_event(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(SAM)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    lam = lamina.client()
    url = lam.get_function_url_config(FunctionName=out["Function"])["FunctionUrl"]
    assert out["Url"] == url
    host = url.split("//", 1)[1].split(".", 1)[0]
    assert http(lamina, f"{host}.lambda-url.us-east-1.localhost", "/") == (200, b"from the url")
    config = lam.get_function_event_invoke_config(FunctionName=out["Function"])
    assert config["MaximumRetryAttempts"] == 1
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":" + name + "-Failures-" + config["DestinationConfig"]["OnFailure"]["Destination"].rsplit("-", 1)[-1]
    )
    policy = json.loads(lam.get_policy(FunctionName=out["Function"])["Policy"])
    principals = [
        s["Principal"] if isinstance(s["Principal"], str) else s["Principal"].get("Service")
        for s in policy["Statement"]
    ]
    assert "sns.amazonaws.com" in principals
    types = {r["ResourceType"] for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert {"AWS::Lambda::Url", "AWS::Lambda::EventInvokeConfig", "AWS::SNS::Subscription"} <= types
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        lam.get_function_url_config(FunctionName=out["Function"])


def test_iam_and_queue_policies(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(POLICIES)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    iam = lamina.client("iam")
    role = physical["Role"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["send"]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [physical["Managed"]]
    queue_policy = lamina.client("sqs").get_queue_attributes(QueueUrl=physical["Queue"], AttributeNames=["Policy"])
    assert json.loads(queue_policy["Attributes"]["Policy"])["Statement"][0]["Principal"] == {
        "Service": "sns.amazonaws.com"
    }
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=physical["Managed"])
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role)
