from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess

LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def document(*actions: str, resource: str = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}
    )


@pytest.fixture(scope="session")
def iam(lamina: LaminaProcess) -> Any:
    return lamina.client("iam", parameter_validation=False)


@pytest.fixture
def make_role(iam: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """Roles with a Lambda trust policy, emptied and deleted after the test."""
    created: list[str] = []

    def make(name: str | None = None, **kwargs: Any) -> dict[str, Any]:
        args = {"RoleName": name or f"role-{uuid.uuid4().hex[:10]}", "AssumeRolePolicyDocument": LAMBDA_TRUST}
        args.update(kwargs)
        role: dict[str, Any] = iam.create_role(**args)["Role"]
        created.append(role["RoleName"])
        return role

    yield make
    for name in created:
        try:
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            for inline in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=inline)
            iam.delete_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            pass


@pytest.fixture
def make_policy(iam: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    created: list[str] = []

    def make(text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        args = {"PolicyName": f"policy-{uuid.uuid4().hex[:10]}", "PolicyDocument": text or document("sqs:*")}
        args.update(kwargs)
        policy: dict[str, Any] = iam.create_policy(**args)["Policy"]
        created.append(policy["Arn"])
        return policy

    yield make
    for arn in created:
        try:
            for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:
            pass


def error(exc: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    response = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]
