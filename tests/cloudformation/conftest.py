from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config

from tests.server import LaminaProcess

FAST = {"Delay": 1, "MaxAttempts": 60}


@pytest.fixture(scope="session")
def cfn(lamina: LaminaProcess) -> Any:
    return lamina.client("cloudformation")


@pytest.fixture
def deploy(cfn: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """Creates a stack, waits until it settles and answers its description; deletes what remains afterwards."""
    created: list[str] = []

    def make(body: str, name: str | None = None, wait: bool = True, **kwargs: Any) -> dict[str, Any]:
        stack = name or f"stack-{uuid.uuid4().hex[:8]}"
        kwargs.setdefault("Capabilities", ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        cfn.create_stack(StackName=stack, TemplateBody=body, **kwargs)
        created.append(stack)
        if wait:
            settle(cfn, stack)
        found: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        return found

    yield make
    for stack in created:
        try:
            cfn.delete_stack(StackName=stack)
            cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)
        except Exception:  # a test that failed mid-way: clean up what can be
            pass


def settle(cfn: Any, stack: str) -> str:
    """Waits (polling, as the waiters do) until the stack leaves its *_IN_PROGRESS status."""
    waiter = cfn.get_waiter("stack_create_complete")
    try:
        waiter.wait(StackName=stack, WaiterConfig=FAST)
    except Exception:
        pass
    status: str = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    return status


def events(cfn: Any, stack: str) -> list[tuple[str, str]]:
    """(logical id, status) of every event, oldest first."""
    found = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(found)]


def client_config() -> Config:
    return Config(retries={"max_attempts": 1})
