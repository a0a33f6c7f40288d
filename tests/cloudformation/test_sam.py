"""The AWS::Serverless-2016-10-31 transform (aws-sam-translator): a SAM function with inline code, a policy
template, an SQS event and an alias deploys through CloudFormation; the processed template is CloudFormation's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.cloudformation.conftest import events
from tests.server import LaminaProcess

SAM = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        import os
        def handler(event, context):
            return os.environ["GREETING"]
      Environment:
        Variables:
          GREETING: !Ref Greeting
      Policies:
        - SQSPollerPolicy:
            QueueName: !GetAtt Jobs.QueueName
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 2
      AutoPublishAlias: live
Outputs:
  Function:
    Value: !Ref Worker
"""


def test_sam_function_deploys(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(SAM, Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "bonjour"}])
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    function = stack["Outputs"][0]["OutputValue"]
    assert function.startswith(f"{name}-Worker-")
    types = {r["ResourceType"] for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert types == {
        "AWS::SQS::Queue",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::EventSourceMapping",
    }
    lam = lamina.client()
    assert json.loads(lam.invoke(FunctionName=function, Qualifier="live")["Payload"].read()) == "bonjour"
    role = lam.get_function_configuration(FunctionName=function)["Role"].rsplit("/", 1)[-1]
    iam = lamina.client("iam")
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    assert attached == [  # SAM's own choice: basic execution, and the SQS event's poller policy
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    ]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["WorkerRolePolicy0"]
    processed = cfn.get_template(StackName=name, TemplateStage="Processed")["TemplateBody"]  # botocore parses JSON
    assert "Transform" not in processed
    assert processed["Resources"]["Worker"]["Type"] == "AWS::Lambda::Function"
    assert cfn.get_template(StackName=name)["TemplateBody"] == SAM
