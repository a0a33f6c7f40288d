"""The aws CLI against Lamina's IAM and STS, as a user types it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner
from tests.iam.conftest import BASIC, LAMBDA_TRUST


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_role_lifecycle(aws: Any, tmp_path: Path) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    trust = tmp_path / "trust.json"
    trust.write_text(LAMBDA_TRUST)
    created = aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", f"file://{trust}")
    assert created["Role"]["AssumeRolePolicyDocument"] == json.loads(LAMBDA_TRUST)
    aws("iam", "attach-role-policy", "--role-name", name, "--policy-arn", BASIC)
    attached = aws("iam", "list-attached-role-policies", "--role-name", name)
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [BASIC]
    stderr = aws("iam", "delete-role", "--role-name", name, ok=False)
    assert "DeleteConflict" in stderr and "Cannot delete entity, must detach all policies first." in stderr
    aws("iam", "detach-role-policy", "--role-name", name, "--policy-arn", BASIC)
    aws("iam", "delete-role", "--role-name", name)
    stderr = aws("iam", "get-role", "--role-name", name, ok=False)
    assert f"(NoSuchEntity) when calling the GetRole operation: The role with name {name} cannot be found." in stderr


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_sts(aws: Any) -> None:
    assert aws("sts", "get-caller-identity") == {
        "UserId": "000000000000",
        "Account": "000000000000",
        "Arn": "arn:aws:iam::000000000000:root",
    }
    assumed = aws(
        "sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/any", "--role-session-name", "cli"
    )
    assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/any/cli"
    assert assumed["Credentials"]["AccessKeyId"].startswith("ASIA")
