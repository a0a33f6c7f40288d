"""STS through boto3: who the caller is, AssumeRole / AssumeRoleWithWebIdentity / GetSessionToken credentials
(well formed, usable, durable), and AWS's validation of durations and session names."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import json_runner
from tests.server import LaminaProcess
from tests.sts.conftest import TRUST, client_with, jwt


def _error(exc: Any) -> tuple[str, str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def _well_formed(credentials: dict[str, Any], seconds: int) -> None:
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert len(credentials["SessionToken"]) > 400
    expected = datetime.now(UTC) + timedelta(seconds=seconds)
    assert abs((credentials["Expiration"] - expected).total_seconds()) < 60


@pytest.fixture
def role(iam: Any) -> Any:
    name = f"assumable-{uuid.uuid4().hex[:8]}"
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Path="/ops/", MaxSessionDuration=7200)
    yield created["Role"]
    iam.delete_role(RoleName=name)


def test_caller_identity_is_the_account_root(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        "000000000000",
        "arn:aws:iam::000000000000:root",
        "000000000000",
    )


def test_assume_role(sts: Any, role: dict[str, Any], lamina: LaminaProcess) -> None:
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="deploy@ci", DurationSeconds=7200)
    _well_formed(answer["Credentials"], 7200)
    user = answer["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/deploy@ci"  # no path
    assert user["AssumedRoleId"] == f"{role['RoleId']}:deploy@ci"
    assert "PackedPolicySize" not in answer
    identity = client_with(lamina, answer["Credentials"]).get_caller_identity()
    assert (identity["Arn"], identity["UserId"]) == (user["Arn"], user["AssumedRoleId"])


def test_assume_role_limits(sts: Any, role: dict[str, Any], lamina: LaminaProcess) -> None:
    with pytest.raises(ClientError) as too_long:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s", DurationSeconds=7201)
    assert _error(too_long) == (
        "ValidationError",
        "1 validation error detected: Value 's' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2",
        400,
    )
    with pytest.raises(ClientError) as over_max:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", DurationSeconds=7201)
    assert _error(over_max) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )
    with pytest.raises(ClientError) as short:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="has space", DurationSeconds=60)
    code, message, status = _error(short)
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value '60' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900" in message
    )
    assert (
        "Value 'has space' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*" in message
    )
    chained = client_with(lamina, sts.assume_role(RoleArn=role["Arn"], RoleSessionName="first")["Credentials"])
    with pytest.raises(ClientError) as chain:
        chained.assume_role(RoleArn=role["Arn"], RoleSessionName="second", DurationSeconds=3601)
    assert _error(chain) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
    )
    again = chained.assume_role(RoleArn=role["Arn"], RoleSessionName="second")
    assert again["AssumedRoleUser"]["Arn"].endswith("/second")


def test_session_policy_is_checked(sts: Any, role: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as bad:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", Policy="{")
    assert _error(bad) == ("MalformedPolicyDocument", "This policy contains invalid Json", 400)
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", Policy=policy, SourceIdentity="me")
    assert answer["PackedPolicySize"] > 0
    assert answer["SourceIdentity"] == "me"


def test_session_policy_limits(sts: Any, role: dict[str, Any]) -> None:
    arns = [{"arn": f"arn:aws:iam::000000000000:policy/p{n:02d}"} for n in range(11)]
    with pytest.raises(ClientError) as many:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", PolicyArns=arns)
    assert _error(many) == (
        "ValidationError",
        "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
        "Member must have length less than or equal to 10",
        400,
    )
    ten = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", PolicyArns=arns[:10])
    assert 0 < ten["PackedPolicySize"] <= 100
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "b" * 1900}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    tags = [{"Key": f"k{n}", "Value": "v" * 200} for n in range(5)]
    with pytest.raises(ClientError) as packed:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session", Policy=policy, Tags=tags)
    code, message, status = _error(packed)
    assert (code, status) == ("PackedPolicyTooLarge", 400)
    assert re.fullmatch(r"Packed policy consumes 1\d\d% of allotted space", message)


def test_assume_role_with_web_identity(sts: Any, role: dict[str, Any]) -> None:
    token = jwt({"sub": "user-123", "aud": "my-client", "iss": "https://token.actions.githubusercontent.com"})
    answer = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="gha", WebIdentityToken=token)
    _well_formed(answer["Credentials"], 3600)
    assert answer["SubjectFromWebIdentityToken"] == "user-123"
    assert answer["Audience"] == "my-client"
    assert answer["Provider"] == "token.actions.githubusercontent.com"
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/gha"
    with pytest.raises(ClientError) as bad:
        sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="gha", WebIdentityToken="not-a-jwt")
    assert _error(bad) == (
        "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        400,
    )


def test_get_session_token(sts: Any, role: dict[str, Any], lamina: LaminaProcess) -> None:
    answer = sts.get_session_token()
    _well_formed(answer["Credentials"], 43200)
    assert client_with(lamina, answer["Credentials"]).get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    with pytest.raises(ClientError) as too_long:
        sts.get_session_token(DurationSeconds=129601)
    assert _error(too_long)[0::2] == ("ValidationError", 400)
    assumed = client_with(lamina, sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"])
    with pytest.raises(ClientError) as from_session:
        assumed.get_session_token()
    assert _error(from_session) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)


def test_sessions_survive_kill(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    server.client("iam").create_role(RoleName="kept", AssumeRolePolicyDocument=TRUST)
    arn = "arn:aws:iam::000000000000:role/kept"
    credentials = server.client("sts").assume_role(RoleArn=arn, RoleSessionName="before")["Credentials"]
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    identity = client_with(again, credentials).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::000000000000:assumed-role/kept/before"


def test_strict_iam_refuses_unknown_roles(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina("--strict-iam")
    arn = "arn:aws:iam::000000000000:role/never-made"
    with pytest.raises(ClientError) as denied:
        server.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")
    assert _error(denied) == (
        "AccessDenied",
        f"User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: {arn}",
        403,
    )


def test_get_access_key_info(sts: Any) -> None:
    assert sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == "000000000000"


def test_session_policies_through_the_cli(lamina: LaminaProcess, role: dict[str, Any], tmp_path: Path) -> None:
    run = json_runner(tmp_path, lamina.url, "sts")
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}'
    answer = run("assume-role", "--role-arn", role["Arn"], "--role-session-name", "cli", "--policy", policy)
    assert 0 < answer["PackedPolicySize"] <= 100
    arns = [f"arn=arn:aws:iam::000000000000:policy/p{n:02d}" for n in range(11)]
    args = ("assume-role", "--role-arn", role["Arn"], "--role-session-name", "cli", "--policy-arns", *arns)
    assert "(ValidationError)" in run(*args, ok=False)
    assert "(MalformedPolicyDocument)" in run(*args[:5], "--policy", '{"Statement": []}', ok=False)
