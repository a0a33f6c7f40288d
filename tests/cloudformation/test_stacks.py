"""Stacks through boto3: a YAML template with the short-form tags provisions a queue, a topic and its
subscription, a role, a function and its event source mapping through Lamina's own services; outputs, events,
resources, GetTemplate; a failing resource rolls everything back; DeleteStack removes everything."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, settle
from tests.server import LaminaProcess

APP = """
AWSTemplateFormatVersion: 2010-09-09
Description: queue, topic, role and function
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Secret:
    Type: String
    NoEcho: true
    Default: hidden
Mappings:
  Sizes:
    dev: {Memory: 128}
    prod: {Memory: 256}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 45
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-alerts"
  AlertsToJobs:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Alerts
      Protocol: sqs
      Endpoint: !GetAtt Jobs.Arn
      RawMessageDelivery: true
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt WorkerRole.Arn
      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return os.environ["MODE"] + ":" + os.environ["QUEUE"]
      Environment:
        Variables:
          QUEUE: !GetAtt Jobs.QueueName
          MODE: !If [IsProd, big, small]
  WorkerMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Jobs.Arn
      BatchSize: 5
      Enabled: false
Outputs:
  QueueUrl:
    Value: !Ref Jobs
    Export:
      Name: !Sub "${AWS::StackName}-queue"
  WorkerArn:
    Description: the worker
    Value: !GetAtt Worker.Arn
  Picked:
    Value: !Join ["/", [!Select [1, !Split [",", "a,b,c"]], !Ref "AWS::Region", !Base64 "hi"]]
"""


def test_stack_lifecycle(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    name = f"app-{uuid.uuid4().hex[:8]}"
    stack = deploy(APP, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    assert stack["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:000000000000:stack/{name}/")
    assert stack["Description"] == "queue, topic, role and function"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Stage": "dev", "Secret": "****"}
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    queue_url = outputs["QueueUrl"]["OutputValue"]
    assert outputs["QueueUrl"]["ExportName"] == f"{name}-queue"
    assert queue_url.endswith(f"/000000000000/{name}-Jobs-" + queue_url.rsplit("-", 1)[-1])
    assert outputs["Picked"]["OutputValue"] == "b/us-east-1/aGk="
    assert outputs["WorkerArn"]["Description"] == "the worker"

    lam = lamina.client()
    function = outputs["WorkerArn"]["OutputValue"].rsplit(":", 1)[-1]
    config = lam.get_function_configuration(FunctionName=function)
    assert config["MemorySize"] == 128
    assert config["Role"].startswith("arn:aws:iam::000000000000:role/")
    queue_name = queue_url.rsplit("/", 1)[-1]
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == f"small:{queue_name}"
    sqs = lamina.client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "45"
    }
    sns = lamina.client("sns")
    topic = f"arn:aws:sns:us-east-1:000000000000:{name}-alerts"
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["sqs"]
    sns.publish(TopicArn=topic, Message="through the stack")
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    assert received[0]["Body"] == "through the stack"  # RawMessageDelivery was applied

    resources = {r["LogicalResourceId"]: r for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert set(resources) == {"Jobs", "Alerts", "AlertsToJobs", "WorkerRole", "Worker", "WorkerMapping"}
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources.values())
    assert resources["Worker"]["PhysicalResourceId"] == function
    assert resources["Worker"]["ResourceType"] == "AWS::Lambda::Function"
    listed = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    assert len(listed) == 6
    detail = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Jobs")["StackResourceDetail"]
    assert detail["PhysicalResourceId"] == queue_url
    mapping = resources["WorkerMapping"]["PhysicalResourceId"]
    assert lam.get_event_source_mapping(UUID=mapping)["BatchSize"] == 5

    history = events(cfn, name)
    assert history[0] == (name, "CREATE_IN_PROGRESS")
    assert history[-1] == (name, "CREATE_COMPLETE")
    order = [logical for logical, status in history if status == "CREATE_COMPLETE"]
    assert order.index("Jobs") < order.index("AlertsToJobs") and order.index("Alerts") < order.index("AlertsToJobs")
    assert order.index("WorkerRole") < order.index("Worker") < order.index("WorkerMapping")
    assert cfn.get_template(StackName=name)["TemplateBody"] == APP

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError) as gone:
        cfn.describe_stacks(StackName=name)
    assert gone.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": f"Stack with id {name} does not exist",
    }
    assert cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=function)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=queue_url)
    iam = lamina.client("iam")
    with pytest.raises(ClientError):
        iam.get_role(RoleName=resources["WorkerRole"]["PhysicalResourceId"])
    summaries = {s["StackId"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}
    assert summaries[stack["StackId"]] == "DELETE_COMPLETE"


FAILING = """
Resources:
  First:
    Type: AWS::SQS::Queue
  Broken:
    Type: AWS::Lambda::Function
    DependsOn: First
    Properties:
      Runtime: python0.1
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code: {ZipFile: "def handler(e, c): pass"}
"""


def test_failure_rolls_back_everything(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(FAILING)
    name = stack["StackName"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    history = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in history if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Broken"]
    assert "python0.1" in failed[0]["ResourceStatusReason"]
    rollback = next(e for e in history if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"] == (
        "The following resource(s) failed to create: [Broken]. Rollback requested by user."
    )
    first = [e for e in history if e["LogicalResourceId"] == "First" and e["ResourceStatus"] == "CREATE_COMPLETE"]
    queue_url = first[0]["PhysicalResourceId"]
    with pytest.raises(ClientError):
        lamina.client("sqs").get_queue_attributes(QueueUrl=queue_url)  # nothing is left behind
    assert "Outputs" not in stack


def test_unsupported_type_fails_with_reason(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    stack = deploy("Resources:\n  Bucket:\n    Type: AWS::Foo::Bar\n")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [
        e
        for e in cfn.describe_stack_events(StackName=stack["StackName"])["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert failed[0]["ResourceStatusReason"] == "Resource type AWS::Foo::Bar is not supported by Lamina"


def test_disable_rollback_keeps_what_was_made(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    stack = deploy(FAILING, DisableRollback=True)
    assert stack["StackStatus"] == "CREATE_FAILED"
    resources = {
        r["LogicalResourceId"]: r["ResourceStatus"]
        for r in cfn.describe_stack_resources(StackName=stack["StackName"])["StackResources"]
    }
    assert resources == {"First": "CREATE_COMPLETE", "Broken": "CREATE_FAILED"}


def test_retained_resources_survive_delete(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy("Resources:\n  Kept:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: Retain\n")
    name = stack["StackName"]
    url = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Kept")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    assert ("Kept", "DELETE_SKIPPED") in events(cfn, stack["StackId"])
    sqs = lamina.client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sqs.delete_queue(QueueUrl=url)


def test_termination_protection(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    stack = deploy("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", EnableTerminationProtection=True)
    name = stack["StackName"]
    with pytest.raises(ClientError) as protected:
        cfn.delete_stack(StackName=name)
    assert protected.value.response["Error"]["Message"] == (
        f"Stack [{name}] cannot be deleted while TerminationProtection is enabled"
    )
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    assert settle(cfn, name) == "CREATE_COMPLETE"
