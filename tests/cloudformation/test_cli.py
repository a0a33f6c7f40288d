"""The aws CLI against Lamina's CloudFormation: validate-template, create-stack from a file, the
stack-create-complete waiter, describe-stacks outputs, delete-stack and its waiter."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner

TEMPLATE = """
Parameters:
  Label:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Ref Label
Outputs:
  TopicArn:
    Value: !Ref Topic
"""


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url, timeout=120)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_stack(aws: Any, tmp_path: Path, lamina: Any) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    assert aws("cloudformation", "validate-template", "--template-body", f"file://{template}")["Parameters"] == [
        {"ParameterKey": "Label", "NoEcho": False}
    ]
    created = aws(
        "cloudformation",
        "create-stack",
        "--stack-name",
        name,
        "--template-body",
        f"file://{template}",
        "--parameters",
        "ParameterKey=Label,ParameterValue=from-cli",
    )
    assert created["StackId"].startswith("arn:aws:cloudformation:us-east-1:000000000000:stack/")
    aws("cloudformation", "wait", "stack-create-complete", "--stack-name", name)
    stack = aws("cloudformation", "describe-stacks", "--stack-name", name)["Stacks"][0]
    topic = stack["Outputs"][0]["OutputValue"]
    attributes = lamina.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["DisplayName"] == "from-cli"
    aws("cloudformation", "delete-stack", "--stack-name", name)
    aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", name)
    assert lamina.client("sns").list_topics()["Topics"].count({"TopicArn": topic}) == 0
