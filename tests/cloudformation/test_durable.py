"""Stacks survive kill -9: a finished stack is still there after a restart, and one whose creation was cut off
by a crash ends ROLLBACK_COMPLETE with nothing of it left (or CREATE_COMPLETE, had it finished first)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from lamina.clock import ManualClock
from lamina.errors import LaminaError
from lamina.services.cloudformation.resource_types import naming, random_tail, resource_types
from tests.cloudformation.conftest import settle
from tests.server import LaminaProcess

MANY = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(40))


def test_stack_survives_kill(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    cfn = server.client("cloudformation")
    cfn.create_stack(StackName="kept", TemplateBody="Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    assert settle(cfn, "kept") == "CREATE_COMPLETE"
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    cfn = again.client("cloudformation")
    assert cfn.describe_stacks(StackName="kept")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    url = cfn.describe_stack_resource(StackName="kept", LogicalResourceId="Q")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    assert again.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]


def test_interrupted_creation_is_rolled_back_after_restart(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    server.client("cloudformation").create_stack(StackName="cut", TemplateBody=MANY)
    server.kill()  # at once: the creation is under way
    again = fresh_lamina(data_dir=server.data_dir)
    cfn = again.client("cloudformation")
    status = settle(cfn, "cut")
    assert status in ("ROLLBACK_COMPLETE", "CREATE_COMPLETE")
    queues = again.client("sqs").list_queues(QueueNamePrefix="cut-").get("QueueUrls", [])
    if status == "ROLLBACK_COMPLETE":
        assert queues == []
        reasons = [e.get("ResourceStatusReason") for e in cfn.describe_stack_events(StackName="cut")["StackEvents"]]
        assert "Lamina restarted during the deployment." in reasons
    else:
        assert len(queues) == 40


CASES: list[tuple[str, dict[str, Any]]] = [
    ("AWS::SQS::Queue", {}),
    ("AWS::SNS::Topic", {}),
    (
        "AWS::DynamoDB::Table",
        {
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ),
    ("AWS::Logs::LogGroup", {}),
    ("AWS::Events::Rule", {"ScheduleExpression": "rate(1 day)"}),
    ("AWS::Scheduler::ScheduleGroup", {}),
    ("AWS::ApiGateway::RestApi", {}),
    ("AWS::Lambda::LayerVersion", {"Content": {"Files": {"python/m.py": "X = 1"}}}),
    (
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ]
            }
        },
    ),
    (
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 day)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": "arn:aws:sqs:us-east-1:000000000000:nowhere",
                "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
            },
        },
    ),
    ("AWS::S3::Bucket", {"VersioningConfiguration": {"Status": "Enabled"}}),
    ("AWS::Kinesis::Stream", {"ShardCount": 1}),
]


@pytest.mark.parametrize(("kind", "props"), CASES, ids=[kind for kind, _ in CASES])
def test_planned_name_finds_what_a_create_made(lamina: LaminaProcess, kind: str, props: dict[str, Any]) -> None:
    """What the rollback after a restart relies on: with the tail recorded before the create, `find` answers the
    resource the create made (and nothing under another tail), through Lamina's real operations."""
    clients: dict[str, Any] = {}

    async def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        client = clients.setdefault(service, lamina.client(service))
        try:
            answer: dict[str, Any] = getattr(client, xform_name(operation))(**params)
        except ClientError as exc:  # as the in-process calls raise it
            raise LaminaError(exc.response["Error"]["Message"]) from None
        return answer

    handler = resource_types(ManualClock())[kind]
    stack, tail = f"find{uuid.uuid4().hex[:6]}", random_tail()

    async def run() -> None:
        with naming(tail):
            made = await handler.create(call, stack, "Thing", props)
        try:
            with naming(tail):
                found = await handler.find(call, stack, "Thing", props)  # type: ignore[attr-defined]
            assert found is not None and found.physical_id == made.physical_id
            with naming(random_tail()):
                assert await handler.find(call, stack, "Thing", props) is None  # type: ignore[attr-defined]
        finally:
            await handler.delete(call, made)
        with naming(tail):
            assert await handler.find(call, stack, "Thing", props) is None  # type: ignore[attr-defined]

    asyncio.run(run())
