"""UpdateStack through boto3: a new parameter value changes a function's behaviour in place, an added resource
is made and a removed one deleted, a replaced resource gets a new physical id (the old one deleted afterwards),
a failing update rolls back to the previous configuration, and "No updates are to be performed."."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, reasons
from tests.server import LaminaProcess

BASE = """
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  Speaker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return os.environ["GREETING"]
      Environment:
        Variables:
          GREETING: !Ref Greeting
Outputs:
  Speaker:
    Value: !Ref Speaker
"""
ADD_TOPIC = BASE.replace("Outputs:", "  Extra:\n    Type: AWS::SNS::Topic\nOutputs:")
FIFO_JOBS = BASE.replace("      VisibilityTimeout: 30", "      VisibilityTimeout: 30\n      FifoQueue: true")
BROKEN = ADD_TOPIC.replace("      Runtime: python3.12", "      Runtime: python0.1").replace(
    "GREETING: !Ref Greeting", "GREETING: changed"
)


def _update(cfn: Any, name: str, body: str, **kwargs: Any) -> str:
    cfn.update_stack(StackName=name, TemplateBody=body, **kwargs)
    try:
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    except Exception:
        pass
    status: str = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    return status


def _resources(cfn: Any, name: str) -> dict[str, str]:
    found = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found}


def test_update_changes_behaviour_and_resources(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(BASE)
    name = stack["StackName"]
    function = stack["Outputs"][0]["OutputValue"]
    lam, sqs = lamina.client(), lamina.client("sqs")
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "hello"
    before = _resources(cfn, name)

    with pytest.raises(ClientError) as same:
        cfn.update_stack(StackName=name, TemplateBody=BASE)
    assert same.value.response["Error"]["Message"] == "No updates are to be performed."

    status = _update(cfn, name, BASE, Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "bonjour"}])
    assert status == "UPDATE_COMPLETE", events(cfn, name)
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "bonjour"
    assert _resources(cfn, name) == before  # changed in place: same physical ids
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert described["Parameters"] == [{"ParameterKey": "Greeting", "ParameterValue": "bonjour"}]
    assert "LastUpdatedTime" in described
    history = events(cfn, name)
    assert ("Speaker", "UPDATE_COMPLETE") in history
    assert [s for logical, s in history if logical == name][-3:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]

    kept = [{"ParameterKey": "Greeting", "UsePreviousValue": True}]
    assert _update(cfn, name, ADD_TOPIC, Parameters=kept) == "UPDATE_COMPLETE"
    topic = _resources(cfn, name)["Extra"]
    lamina.client("sns").get_topic_attributes(TopicArn=topic)
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "bonjour"

    assert _update(cfn, name, FIFO_JOBS, Parameters=kept) == "UPDATE_COMPLETE"  # Extra removed, Jobs replaced
    after = _resources(cfn, name)
    assert set(after) == {"Jobs", "Speaker"}
    assert after["Jobs"] != before["Jobs"] and after["Jobs"].endswith(".fifo")
    with pytest.raises(ClientError):
        lamina.client("sns").get_topic_attributes(TopicArn=topic)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=before["Jobs"])  # the replaced queue is gone


def test_failed_update_rolls_back(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(BASE)
    name = stack["StackName"]
    function = stack["Outputs"][0]["OutputValue"]
    status = _update(cfn, name, BROKEN)
    assert status == "UPDATE_ROLLBACK_COMPLETE", events(cfn, name)
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert described["Parameters"] == [{"ParameterKey": "Greeting", "ParameterValue": "hello"}]
    assert set(_resources(cfn, name)) == {"Jobs", "Speaker"}  # the added topic is gone again
    lam = lamina.client()
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "hello"
    topics = [t["TopicArn"] for t in lamina.client("sns").list_topics()["Topics"]]
    assert not any(f"{name}-Extra-" in t for t in topics)
    assert "The following resource(s) failed to update: [Speaker]. " in reasons(cfn, name)
    assert _update(cfn, name, BASE, Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "again"}]) == (
        "UPDATE_COMPLETE"
    )


def test_update_refused_while_not_settled(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    stack = deploy("Resources:\n  Broken:\n    Type: AWS::Foo::Bar\n")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    with pytest.raises(ClientError) as refused:
        cfn.update_stack(StackName=stack["StackName"], TemplateBody=BASE)
    assert refused.value.response["Error"]["Message"] == (
        f"Stack:{stack['StackId']} is in ROLLBACK_COMPLETE state and can not be updated."
    )
