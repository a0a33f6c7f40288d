"""Bad templates and requests get CloudFormation's error type and message, and no stack is made."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

QUEUE = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
PARAMETERIZED = """
Parameters:
  Size:
    Type: Number
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: !Ref Size
"""


def _refused(
    cfn: Any, body: str, capabilities: tuple[str, ...] = ("CAPABILITY_IAM",), **kwargs: Any
) -> tuple[str, str]:
    name = f"bad-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=list(capabilities), **kwargs)
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=name)  # nothing was made
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Resources: [unclosed", "Template format error: YAML not well-formed."),
        ('{"Resources": ', "Template format error: JSON not well-formed."),
        ("Description: nothing\n", "Template format error: At least one Resources member must be defined."),
        (
            "Resourcez:\n  Q: {Type: AWS::SQS::Queue}\n",
            "Template format error: Invalid template property or properties [Resourcez]",
        ),
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Missing\n",
            "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template",
        ),
        (
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    DependsOn: B\n"
            "  B:\n    Type: AWS::SQS::Queue\n    DependsOn: A\n",
            "Circular dependency between resources: [A, B]",
        ),
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {'Fn::Nope': x}\n",
            "Template error: Encountered unsupported function: Fn::Nope Supported functions are: [",
        ),
    ],
)
def test_template_errors(cfn: Any, body: str, message: str) -> None:
    code, text = _refused(cfn, body)
    assert code == "ValidationError"
    assert text.startswith(message), text


def test_parameter_errors(cfn: Any) -> None:
    assert _refused(cfn, PARAMETERIZED) == ("ValidationError", "Parameters: [Size] must have values")
    unknown = [{"ParameterKey": "Size", "ParameterValue": "1"}, {"ParameterKey": "Other", "ParameterValue": "x"}]
    assert _refused(cfn, PARAMETERIZED, Parameters=unknown) == (
        "ValidationError",
        "Parameters: [Other] do not exist in the template",
    )
    not_allowed = [{"ParameterKey": "Size", "ParameterValue": "1"}, {"ParameterKey": "Stage", "ParameterValue": "qa"}]
    assert _refused(cfn, PARAMETERIZED, Parameters=not_allowed) == (
        "ValidationError",
        "Parameter 'Stage' must be one of AllowedValues",
    )
    not_number = [{"ParameterKey": "Size", "ParameterValue": "big"}]
    assert _refused(cfn, PARAMETERIZED, Parameters=not_number) == (
        "ValidationError",
        "Parameter 'Size' must be a number.",
    )


def test_capabilities(cfn: Any) -> None:
    role = (
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
        "        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]\n"
    )
    assert _refused(cfn, role, ()) == ("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    named = role + "      RoleName: fixed-name\n"
    assert _refused(cfn, named) == (
        "InsufficientCapabilitiesException",
        "Requires capabilities : [CAPABILITY_NAMED_IAM]",
    )
    sam = "Transform: AWS::Serverless-2016-10-31\n" + QUEUE
    assert _refused(cfn, sam) == (
        "InsufficientCapabilitiesException",
        "Requires capabilities : [CAPABILITY_AUTO_EXPAND]",
    )


def test_name_in_use(cfn: Any) -> None:
    name = f"taken-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=QUEUE)
    try:
        with pytest.raises(ClientError) as taken:
            cfn.create_stack(StackName=name, TemplateBody=QUEUE)
        assert taken.value.response["Error"]["Code"] == "AlreadyExistsException"
        assert taken.value.response["Error"]["Message"] == f"Stack [{name}] already exists"
    finally:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        cfn.delete_stack(StackName=name)


def test_validate_template(cfn: Any) -> None:
    answer = cfn.validate_template(TemplateBody=PARAMETERIZED)
    assert answer["Parameters"] == [
        {"ParameterKey": "Size", "NoEcho": False},
        {"ParameterKey": "Stage", "DefaultValue": "dev", "NoEcho": False},
    ]
    with pytest.raises(ClientError) as bad:
        cfn.validate_template(TemplateBody="Description: x\n")
    assert (
        bad.value.response["Error"]["Message"]
        == "Template format error: At least one Resources member must be defined."
    )


def test_delete_of_missing_stack_succeeds(cfn: Any) -> None:
    cfn.delete_stack(StackName="never-existed")
