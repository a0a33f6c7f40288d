"""Stacks survive kill -9: a finished stack is still there after a restart, and one whose creation was cut off
by a crash ends ROLLBACK_COMPLETE with nothing of it left (or CREATE_COMPLETE, had it finished first)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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


@pytest.mark.xfail(
    reason="known bug: a resource made just before kill -9 is not yet in the stack's record, so the rollback after "
    "restart cannot delete it (needs the physical name recorded before the create call)",
    strict=False,  # a race: passes when the kill lands between resources
)
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
