"""Session policies on a --auth sigv4 server, as AWS's "Session policies" documents them: AssumeRole's `Policy`
and `PolicyArns` cap the session (identity ∩ session), an explicit Deny in them wins, they grant nothing the
role does not, and a queue policy naming the session's own ARN grants it beyond them (one naming the role does
not). Credentials issued without session policies keep their role's permissions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import ROOT_KEY, ROOT_SECRET, Client, clients_for
from tests.server import LaminaProcess

ACCOUNT = "000000000000"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _denied(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


class Roles:
    """Roles the root may assume, and sessions of them; removed afterwards."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.iam = client("iam")
        self.names: list[str] = []

    def make(self, *statements: dict[str, Any]) -> tuple[str, str]:
        name = f"r-{uuid.uuid4().hex[:10]}"
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        self.names.append(name)
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(*statements))
        return name, arn

    def session(self, role_arn: str, service: str, **policies: Any) -> tuple[str, Any]:
        """(session ARN, a `service` client signing with the session's credentials)."""
        answer = self._client("sts").assume_role(RoleArn=role_arn, RoleSessionName="sp", **policies)
        c = answer["Credentials"]
        made = self._client(service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        return answer["AssumedRoleUser"]["Arn"], made

    def clean(self) -> None:
        for name in self.names:
            self.iam.delete_role_policy(RoleName=name, PolicyName="p")
            self.iam.delete_role(RoleName=name)


@pytest.fixture
def roles(client: Client) -> Iterator[Roles]:
    made = Roles(client)
    yield made
    made.clean()


def _refusal(caller: str, action: str, resource: str, why: str) -> tuple[str, str, int]:
    return "AccessDenied", f"User: {caller} is not authorized to perform: {action} on resource: {resource} {why}", 403


def test_a_session_policy_caps_the_roles_permissions(roles: Roles, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, role_arn = roles.make(_allow("sqs:*"))
    _, unscoped = roles.session(role_arn, "sqs")  # no session policy: the role's permissions
    unscoped.send_message(QueueUrl=url, MessageBody="role")
    session_arn, sqs = roles.session(role_arn, "sqs", Policy=_policy(_allow("sqs:GetQueueAttributes", arn)))
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] == arn
    assert _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == _refusal(
        session_arn, "sqs:SendMessage", arn, "because no session policy allows the sqs:SendMessage action"
    )


def test_a_session_policy_grants_nothing_the_role_does_not(roles: Roles, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, role_arn = roles.make(_allow("sqs:GetQueueAttributes"))
    session_arn, sqs = roles.session(role_arn, "sqs", Policy=_policy(_allow("sqs:*")))
    sqs.get_queue_attributes(QueueUrl=url)
    assert _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == _refusal(
        session_arn, "sqs:SendMessage", arn, "because no identity-based policy allows the sqs:SendMessage action"
    )


def test_an_explicit_deny_in_a_session_policy_wins(roles: Roles, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, role_arn = roles.make(_allow("sqs:*"))
    deny = {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": arn}
    session_arn, sqs = roles.session(role_arn, "sqs", Policy=_policy(_allow("sqs:*"), deny))
    sqs.get_queue_attributes(QueueUrl=url)
    assert _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == _refusal(
        session_arn, "sqs:SendMessage", arn, "with an explicit deny in a session policy"
    )


def test_managed_session_policies(client: Client, roles: Roles, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, role_arn = roles.make(_allow("sqs:*"))
    iam = client("iam")
    name = f"sp-{uuid.uuid4().hex[:8]}"
    managed = iam.create_policy(PolicyName=name, PolicyDocument=_policy(_allow("sqs:GetQueueAttributes")))
    policy_arn = managed["Policy"]["Arn"]
    try:
        session_arn, sqs = roles.session(role_arn, "sqs", PolicyArns=[{"arn": policy_arn}])
        sqs.get_queue_attributes(QueueUrl=url)
        assert _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == _refusal(
            session_arn, "sqs:SendMessage", arn, "because no session policy allows the sqs:SendMessage action"
        )
        # inline and managed session policies together: either may allow within the role's permissions
        _, both = roles.session(
            role_arn, "sqs", PolicyArns=[{"arn": policy_arn}], Policy=_policy(_allow("sqs:SendMessage"))
        )
        both.get_queue_attributes(QueueUrl=url)
        both.send_message(QueueUrl=url, MessageBody="both")
    finally:
        iam.delete_policy(PolicyArn=policy_arn)
    # a managed session policy is read at each request: once deleted it allows nothing
    assert _denied(lambda: sqs.get_queue_attributes(QueueUrl=url)) == _refusal(
        session_arn, "sqs:GetQueueAttributes", arn, "because no session policy allows the sqs:GetQueueAttributes action"
    )


def test_a_queue_policy_naming_the_session_is_not_capped(client: Client, roles: Roles, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, role_arn = roles.make(_allow("sqs:GetQueueAttributes"))
    session_arn, sqs = roles.session(role_arn, "sqs", Policy=_policy(_allow("sqs:GetQueueAttributes")))
    grant = {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": "sqs:SendMessage", "Resource": arn}
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
    # naming the role: the grant is part of the role's permissions, which the session policy caps
    assert _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == _refusal(
        session_arn, "sqs:SendMessage", arn, "because no session policy allows the sqs:SendMessage action"
    )
    grant["Principal"] = {"AWS": session_arn}
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
    sqs.send_message(QueueUrl=url, MessageBody="granted to the session")  # added after the session policy


def test_session_policies_hold_after_a_restart(
    fresh_lamina: Callable[..., LaminaProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_ROOT_ACCESS_KEY_ID", ROOT_KEY)
    monkeypatch.setenv("LAMINA_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET)
    server = fresh_lamina("--auth", "sigv4")

    def make(*args: Any, **kwargs: Any) -> Any:  # the server's URL at the time: a restart moves its port
        return clients_for(server.url)(*args, **kwargs)

    url = make("sqs").create_queue(QueueName="kept")["QueueUrl"]
    roles = Roles(make)
    _, role_arn = roles.make(_allow("sqs:*"))
    answer = make("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="kept", Policy=_policy(_allow("sqs:GetQueueAttributes"))
    )
    server.kill()
    server = fresh_lamina("--auth", "sigv4", data_dir=server.data_dir)
    c = answer["Credentials"]
    sqs = make("sqs", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    sqs.get_queue_attributes(QueueUrl=url)
    code, message, _ = _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    assert (code, message.endswith("because no session policy allows the sqs:SendMessage action")) == (
        "AccessDenied",
        True,
    )


def test_a_post_form_signed_by_a_session_is_capped(client: Client, roles: Roles) -> None:
    # An S3 POST upload's signed policy is checked like PutObject itself: within the session's policies.
    import urllib3

    root = client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    root.create_bucket(Bucket=bucket)
    _, role_arn = roles.make(_allow("s3:*"))
    http = urllib3.PoolManager()

    def post(s3: Any, key: str) -> int:
        fields = s3.generate_presigned_post(Bucket=bucket, Key=key)["fields"]
        body, content_type = urllib3.encode_multipart_formdata([*fields.items(), ("file", ("f", b"data"))])
        url = f"{root.meta.endpoint_url}/{bucket}"
        return http.request("POST", url, body=body, headers={"Content-Type": content_type}).status

    try:
        _, capped = roles.session(role_arn, "s3", Policy=_policy(_allow("s3:GetObject")))
        _, whole = roles.session(role_arn, "s3")
        assert post(capped, "no.txt") == 403
        assert post(whole, "ok.txt") == 204
        assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["ok.txt"]
    finally:
        for listed in root.list_objects_v2(Bucket=bucket).get("Contents", []):
            root.delete_object(Bucket=bucket, Key=listed["Key"])
        root.delete_bucket(Bucket=bucket)
