from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from tests.aws_cli import AWS, cli_environment
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


class CliDeploy:
    """`aws cloudformation deploy` of one template file into one stack, as users run it."""

    def __init__(self, lamina: LaminaProcess, folder: Path, body: str, prefix: str) -> None:
        self.lamina = lamina
        self.template = folder / "template.yaml"
        self.template.write_text(body)
        self.name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.env = cli_environment(folder)

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        command = [str(AWS), "--endpoint-url", self.lamina.url, "cloudformation", "deploy", "--template-file"]
        command += [str(self.template), "--stack-name", self.name, "--capabilities", "CAPABILITY_IAM", *extra]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=180, check=False)

    def __call__(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """Deploys, asserting the CLI succeeded."""
        done = self.run(*extra)
        assert done.returncode == 0, done.stderr
        return done

    def outputs(self) -> dict[str, str]:
        return outputs(self.lamina.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"][0])


@pytest.fixture
def cli_deploy(tmp_path: Path, lamina: LaminaProcess) -> Iterator[Callable[[str, str], CliDeploy]]:
    """`cli_deploy(template, prefix)` answers a CliDeploy; its stack is deleted (and waited for) afterwards."""
    if not AWS.exists():
        pytest.skip("the aws CLI is not installed in this environment")
    made: list[CliDeploy] = []

    def make(body: str, prefix: str) -> CliDeploy:
        made.append(CliDeploy(lamina, tmp_path, body, prefix))
        return made[-1]

    yield make
    cfn = lamina.client("cloudformation")
    for one in made:
        cfn.delete_stack(StackName=one.name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=one.name, WaiterConfig=FAST)


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


def failures(cfn: Any, stack: str) -> list[tuple[str, str]]:
    """(logical id, reason) of every *_FAILED event, newest first."""
    found = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e.get("ResourceStatusReason", ""))
        for e in found
        if e["ResourceStatus"].endswith("FAILED")
    ]


def reasons(cfn: Any, stack: str) -> list[str]:
    """Every event's status reason (empty when it has none), newest first."""
    return [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]]


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    """A described stack's outputs as {key: value}."""
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def http(lamina: LaminaProcess, host: str, path: str, method: str = "GET") -> tuple[int, bytes]:
    """(status, body) of one request to Lamina's port with the given Host header (API and URL doors)."""
    request = urllib.request.Request(f"{lamina.url}{path}", method=method, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_json(lamina: LaminaProcess, host: str, path: str, method: str = "GET") -> tuple[int, Any]:
    status, body = http(lamina, host, path, method)
    return status, json.loads(body or b"null")


def client_config() -> Config:
    return Config(retries={"max_attempts": 1})
