"""Identity policies enforced on a --auth sigv4 server: an IAM user limited to one action on one function, and
a function whose execution role allows one queue (issue 19's scenario: it cannot delete another function)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import Client
from tests.conftest import make_zip

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ACCOUNT = "000000000000"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _function(lam: Any, name: str, role: str, code: str = "def handler(e, c):\n    return e\n") -> None:
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


@pytest.fixture
def user(client: Client) -> Iterator[tuple[str, Any]]:
    """A user allowed only lambda:InvokeFunction on one function (`allowed-<id>`), and its key."""
    iam = client("iam")
    name = f"invoker-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    yield name, iam
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    iam.delete_user(UserName=name)


def test_user_allowed_only_invoke_on_one_function(client: Client, user: tuple[str, Any]) -> None:
    name, iam = user
    lam = client("lambda")
    allowed, other = f"allowed-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    _function(lam, allowed, role)
    _function(lam, other, role)
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{allowed}"
    iam.put_user_policy(
        UserName=name,
        PolicyName="invoke-one",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = client("lambda", key["AccessKeyId"], key["SecretAccessKey"])
    for _ in range(3):  # warm invokes too (the server's shortcut must not skip the check)
        assert as_user.invoke(FunctionName=allowed, Payload=b'{"a": 1}')["Payload"].read() == b'{"a": 1}'

    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    other_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{other}"
    with pytest.raises(ClientError) as caught:
        as_user.invoke(FunctionName=other, Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["Error"]["Message"] == (
        f"User: {user_arn} is not authorized to perform: lambda:InvokeFunction on resource: {other_arn} because no "
        "identity-based policy allows the lambda:InvokeFunction action"
    )
    with pytest.raises(ClientError) as caught:
        as_user.delete_function(FunctionName=allowed)
    assert "lambda:DeleteFunction on resource: " + arn in caught.value.response["Error"]["Message"]
    lam.get_function(FunctionName=allowed)  # still there

    # An explicit deny wins over the allow.
    iam.put_user_policy(
        UserName=name,
        PolicyName="deny",
        PolicyDocument=_policy({"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}),
    )
    with pytest.raises(ClientError) as caught:
        as_user.invoke(FunctionName=allowed, Payload=b"{}")
    assert caught.value.response["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")

    # Other services refuse in their own shapes.
    with pytest.raises(ClientError) as caught:
        client("sqs", key["AccessKeyId"], key["SecretAccessKey"]).create_queue(QueueName="never")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as caught:
        client("sns", key["AccessKeyId"], key["SecretAccessKey"]).list_topics()
    assert caught.value.response["Error"]["Code"] == "AuthorizationError"
    assert "QueueUrls" not in client("sqs").list_queues(QueueNamePrefix="never")
    for fn in (allowed, other):
        lam.delete_function(FunctionName=fn)


CALLER = """
import boto3, botocore

def handler(event, context):
    out = {}
    sqs = boto3.client("sqs")
    for name in ("allowed", "denied"):
        try:
            sqs.send_message(QueueUrl=event[name], MessageBody="hi")
            out[name] = "sent"
        except botocore.exceptions.ClientError as e:
            out[name] = e.response["Error"]["Code"]
    try:
        boto3.client("lambda").delete_function(FunctionName=event["victim"])
        out["delete"] = "deleted"
    except botocore.exceptions.ClientError as e:
        out["delete"] = e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]
    return out
"""


def test_function_is_bound_by_its_roles_policies(client: Client) -> None:
    iam, lam, sqs = client("iam"), client("lambda"), client("sqs")
    tag = uuid.uuid4().hex[:6]
    allowed = sqs.create_queue(QueueName=f"allowed-{tag}")["QueueUrl"]
    denied = sqs.create_queue(QueueName=f"denied-{tag}")["QueueUrl"]
    role_name = f"sender-{tag}"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="one-queue",
        PolicyDocument=_policy(
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:allowed-{tag}",
            }
        ),
    )
    victim, caller = f"victim-{tag}", f"caller-{tag}"
    _function(lam, victim, role)
    _function(lam, caller, role, CALLER)
    event = {"allowed": allowed, "denied": denied, "victim": victim}
    answer = json.loads(lam.invoke(FunctionName=caller, Payload=json.dumps(event).encode())["Payload"].read())
    assert answer["allowed"] == "sent"
    assert answer["denied"] == "AccessDenied"
    assert answer["delete"] == (
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{caller} is not authorized to "
        f"perform: lambda:DeleteFunction on resource: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{victim} because "
        "no identity-based policy allows the lambda:DeleteFunction action"
    )
    lam.get_function(FunctionName=victim)
    assert (
        sqs.get_queue_attributes(QueueUrl=allowed, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "1"
    )
    assert (
        sqs.get_queue_attributes(QueueUrl=denied, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )
    for fn in (victim, caller):
        lam.delete_function(FunctionName=fn)


def test_a_function_policy_grants_a_user_of_the_account(client: Client, user: tuple[str, Any]) -> None:
    name, iam = user
    lam = client("lambda")
    tag = uuid.uuid4().hex[:6]
    role = iam.create_role(RoleName=f"rp-{tag}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    granted, other = f"granted-{tag}", f"closed-{tag}"
    _function(lam, granted, role)
    _function(lam, other, role)
    lam.add_permission(
        FunctionName=granted,
        StatementId="user",
        Action="lambda:InvokeFunction",
        Principal=f"arn:aws:iam::{ACCOUNT}:user/{name}",
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = client("lambda", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_user.invoke(FunctionName=granted, Payload=b"{}")["StatusCode"] == 200
    with pytest.raises(ClientError) as caught:
        as_user.invoke(FunctionName=other, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    # an explicit deny in an identity policy still wins over the function's grant
    iam.put_user_policy(
        UserName=name,
        PolicyName="deny",
        PolicyDocument=_policy({"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}),
    )
    with pytest.raises(ClientError):
        as_user.invoke(FunctionName=granted, Payload=b"{}")
    for fn in (granted, other):
        lam.delete_function(FunctionName=fn)
