"""GetFederationToken on a --auth sigv4 server: the federated user has its IAM user's identity policies capped by
the session policies (none: no permissions), GetCallerIdentity answers the federated user, session credentials
cannot federate, and two users' sessions of the same Name keep their own user's permissions."""

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


def _policy(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def _error(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    r = caught.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def user(client: Client) -> Iterator[Any]:
    """user(policy) → an sts client signing with a new IAM user's long-term key."""
    iam = client("iam")
    made: list[tuple[str, str]] = []

    def make(policy: str) -> Any:
        name = f"u-{uuid.uuid4().hex[:10]}"
        iam.create_user(UserName=name)
        # a user needs sts:GetFederationToken allowed to federate, as on AWS
        document = json.loads(policy)
        document["Statement"].append({"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"})
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        made.append((name, key["AccessKeyId"]))
        return client("sts", key["AccessKeyId"], key["SecretAccessKey"])

    yield make
    for name, key_id in made:
        iam.delete_access_key(UserName=name, AccessKeyId=key_id)
        iam.delete_user_policy(UserName=name, PolicyName="p")
        iam.delete_user(UserName=name)


def _federated(client: Client, sts: Any, service: str, **params: Any) -> tuple[dict[str, Any], Any]:
    answer = sts.get_federation_token(**params)
    c = answer["Credentials"]
    return answer, client(service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def test_federated_user_is_capped_by_its_users_policies(client: Client, user: Any) -> None:
    sts = user(_policy("sqs:ListQueues", "sns:ListTopics"))
    answer, sqs = _federated(client, sts, "sqs", Name="Bob", Policy=_policy("sqs:*", "sns:ListTopics", "sts:*"))
    assert answer["FederatedUser"] == {
        "FederatedUserId": f"{ACCOUNT}:Bob",
        "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/Bob",
    }
    assert answer["PackedPolicySize"] >= 1 and answer["Credentials"]["AccessKeyId"].startswith("ASIA")
    sqs.list_queues()  # the user's policy and the session policy both allow it
    c = answer["Credentials"]
    me = client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert (me["Arn"], me["UserId"]) == (f"arn:aws:sts::{ACCOUNT}:federated-user/Bob", f"{ACCOUNT}:Bob")
    code, message, status = _error(lambda: sqs.create_queue(QueueName="nope"))  # session allows, user does not
    assert (code, status) == ("AccessDenied", 403)
    assert "federated-user/Bob is not authorized to perform: sqs:CreateQueue" in message
    # session credentials cannot federate
    fed_sts = client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert _error(lambda: fed_sts.get_federation_token(Name="Again")) == (
        "AccessDenied",
        "Cannot call GetFederationToken with session credentials",
        403,
    )


def test_no_session_policy_means_no_permissions(client: Client, user: Any) -> None:
    sts = user(_policy("sqs:ListQueues"))
    answer, sqs = _federated(client, sts, "sqs", Name="Nobody", DurationSeconds=900)
    assert "PackedPolicySize" not in answer
    code, message, status = _error(sqs.list_queues)
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no session policy allows the sqs:ListQueues action")


def test_same_name_from_two_users_keeps_each_users_permissions(client: Client, user: Any) -> None:
    both = _policy("sqs:ListQueues", "sns:ListTopics")
    _, first = _federated(client, user(_policy("sqs:ListQueues")), "sqs", Name="Same", Policy=both)
    _, second = _federated(client, user(_policy("sns:ListTopics")), "sqs", Name="Same", Policy=both)
    first.list_queues()
    assert _error(second.list_queues)[0] == "AccessDenied"


def test_the_name_is_validated(client: Client, user: Any) -> None:
    sts = user(_policy("sqs:ListQueues"))
    assert _error(lambda: sts.get_federation_token(Name="has space"))[0] == "ValidationError"


def test_root_sessions_last_at_most_an_hour(client: Client) -> None:
    answer = client("sts").get_federation_token(Name="RootFed", DurationSeconds=7200)
    c = answer["Credentials"]
    expires = c["Expiration"].timestamp()
    me = client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/RootFed"
    import time

    assert expires - time.time() <= 3600 + 5


def test_federated_sessions_hold_after_a_restart(
    fresh_lamina: Callable[..., LaminaProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_ROOT_ACCESS_KEY_ID", ROOT_KEY)
    monkeypatch.setenv("LAMINA_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET)
    server = fresh_lamina("--auth", "sigv4")

    def make(*args: Any, **kwargs: Any) -> Any:  # the server's URL at the time: a restart moves its port
        return clients_for(server.url)(*args, **kwargs)

    iam = make("iam")
    iam.create_user(UserName="fed")
    iam.put_user_policy(UserName="fed", PolicyName="p", PolicyDocument=_policy("sqs:ListQueues", "sts:*"))
    key = iam.create_access_key(UserName="fed")["AccessKey"]
    answer = make("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_federation_token(
        Name="Kept", Policy=_policy("sqs:*")
    )
    server.kill()
    server = fresh_lamina("--auth", "sigv4", data_dir=server.data_dir)
    c = answer["Credentials"]
    sqs = make("sqs", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    sqs.list_queues()  # the user's policy still applies
    assert _error(lambda: sqs.create_queue(QueueName="no"))[0] == "AccessDenied"
    me = make("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/Kept"


def test_a_federated_users_post_upload_is_judged_by_its_users_policies(client: Client, user: Any) -> None:
    import urllib3

    root = client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    root.create_bucket(Bucket=bucket)
    http = urllib3.PoolManager()

    def post(s3: Any, key: str) -> int:
        fields = s3.generate_presigned_post(Bucket=bucket, Key=key)["fields"]
        body, content_type = urllib3.encode_multipart_formdata([*fields.items(), ("file", ("f", b"data"))])
        url = f"{root.meta.endpoint_url}/{bucket}"
        return http.request("POST", url, body=body, headers={"Content-Type": content_type}).status

    try:
        allowed = user(_policy("s3:PutObject"))
        _, s3 = _federated(client, allowed, "s3", Name="Poster", Policy=_policy("s3:PutObject"))
        assert post(s3, "ok.txt") == 204
        _, capped = _federated(client, allowed, "s3", Name="Reader", Policy=_policy("s3:GetObject"))
        assert post(capped, "no.txt") == 403
        assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["ok.txt"]
    finally:
        for listed in root.list_objects_v2(Bucket=bucket).get("Contents", []):
            root.delete_object(Bucket=bucket, Key=listed["Key"])
        root.delete_bucket(Bucket=bucket)
