"""Change sets through boto3 (CREATE and UPDATE types, Changes with Add/Modify/Remove and Replacement, an empty
change set FAILED with AWS's reason) and `aws cloudformation deploy` of a SAM template, as users deploy."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, CliDeploy
from tests.server import LaminaProcess

V1 = """
Parameters:
  Size:
    Type: Number
    Default: 30
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Size
  Alerts:
    Type: AWS::SNS::Topic
"""
V2 = """
Parameters:
  Size:
    Type: Number
    Default: 30
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Size
  Dead:
    Type: AWS::SQS::Queue
"""


def _actions(change_set: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {
        c["ResourceChange"]["LogicalResourceId"]: (
            c["ResourceChange"]["Action"],
            c["ResourceChange"].get("Replacement"),
        )
        for c in change_set["Changes"]
    }


def test_change_sets(cfn: Any, lamina: LaminaProcess) -> None:
    name = f"cs-{uuid.uuid4().hex[:8]}"
    created = cfn.create_change_set(StackName=name, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=V1)
    assert created["Id"].startswith("arn:aws:cloudformation:us-east-1:000000000000:changeSet/first/")
    try:
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName="first", StackName=name, WaiterConfig=FAST)
        first = cfn.describe_change_set(ChangeSetName="first", StackName=name)
        assert (first["Status"], first["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
        assert _actions(first) == {"Jobs": ("Add", None), "Alerts": ("Add", None)}
        assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName=name)["Summaries"]] == ["first"]
        cfn.execute_change_set(ChangeSetName=created["Id"])
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
        with pytest.raises(ClientError) as again:
            cfn.execute_change_set(ChangeSetName="first", StackName=name)
        assert again.value.response["Error"]["Code"] == "InvalidChangeSetStatus"

        cfn.create_change_set(
            StackName=name,
            ChangeSetName="second",
            TemplateBody=V2,
            Parameters=[{"ParameterKey": "Size", "ParameterValue": "60"}],
        )
        second = cfn.describe_change_set(ChangeSetName="second", StackName=name)
        assert _actions(second) == {
            "Jobs": ("Modify", "Conditional"),
            "Dead": ("Add", None),
            "Alerts": ("Remove", None),
        }
        cfn.execute_change_set(ChangeSetName="second", StackName=name)
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
        resources = {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
        assert resources == {"Jobs", "Dead"}
        url = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Jobs")["StackResourceDetail"][
            "PhysicalResourceId"
        ]
        attributes = lamina.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        assert attributes["Attributes"]["VisibilityTimeout"] == "60"

        cfn.create_change_set(
            StackName=name,
            ChangeSetName="empty",
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Size", "UsePreviousValue": True}],
        )
        empty = cfn.describe_change_set(ChangeSetName="empty", StackName=name)
        assert (empty["Status"], empty["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
        assert empty["StatusReason"] == (
            "The submitted information didn't contain changes. Submit different information to create a change set."
        )
        cfn.delete_change_set(ChangeSetName="empty", StackName=name)
        with pytest.raises(ClientError) as gone:
            cfn.describe_change_set(ChangeSetName="empty", StackName=name)
        assert gone.value.response["Error"]["Code"] == "ChangeSetNotFound"
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)


SAM_APP = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Greeter:
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
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
Outputs:
  Greeter:
    Value: !Ref Greeter
    Export:
      Name: greeter-name
"""


def test_aws_cloudformation_deploy(cli_deploy: Callable[[str, str], CliDeploy], lamina: LaminaProcess) -> None:
    deploy = cli_deploy(SAM_APP, "deploy")
    name = deploy.name
    cfn = lamina.client("cloudformation")
    done = deploy()
    assert f"Successfully created/updated stack - {name}" in done.stdout
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    function = stack["Outputs"][0]["OutputValue"]
    lam = lamina.client()
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "hello"
    deploy("--parameter-overrides", "Greeting=bonjour")
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "bonjour"
    done = deploy.run("--parameter-overrides", "Greeting=bonjour")
    assert done.returncode == 255  # the CLI's answer to an empty change set (without --no-fail-on-empty-changeset)
    assert f"No changes to deploy. Stack {name} is up to date" in done.stderr
