"""IAM users, access keys and groups through boto3 on a --auth sigv4 server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import Client

ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_user_key_signs_and_status_and_deletion_are_enforced(client: Client) -> None:
    iam = client("iam")
    name = _name("alice")
    user = iam.create_user(UserName=name)["User"]
    assert user["Arn"] == f"arn:aws:iam::000000000000:user/{name}" and user["UserId"].startswith("AIDA")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["Status"] == "Active" and key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    as_user = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_user.get_caller_identity()["Arn"] == user["Arn"]
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]] and "SecretAccessKey" not in listed[0]

    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as caught:
        as_user.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    as_user.get_caller_identity()

    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=name)
    assert caught.value.response["Error"]["Code"] == "DeleteConflict"
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        as_user.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as caught:
        iam.get_user(UserName=name)
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_at_most_two_keys(client: Client) -> None:
    iam = client("iam")
    name = _name("keys")
    iam.create_user(UserName=name)
    made = [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    with pytest.raises(ClientError) as caught:
        iam.create_access_key(UserName=name)
    assert caught.value.response["Error"]["Code"] == "LimitExceeded"
    assert len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]) == 2
    for key_id in made:
        iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    iam.delete_user(UserName=name)


def test_groups_and_policies(client: Client) -> None:
    iam = client("iam")
    user, group = _name("bob"), _name("devs")
    iam.create_user(UserName=user)
    assert iam.create_group(GroupName=group)["Group"]["Arn"] == f"arn:aws:iam::000000000000:group/{group}"
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=ALLOW_ALL)
    iam.put_group_policy(GroupName=group, PolicyName="all", PolicyDocument=ALLOW_ALL)
    assert iam.get_user_policy(UserName=user, PolicyName="all")["PolicyDocument"] == json.loads(ALLOW_ALL)
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["all"]
    arn = iam.create_policy(PolicyName=_name("p"), PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    assert [a["PolicyArn"] for a in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]] == [arn]
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert caught.value.response["Error"]["Code"] == "DeleteConflict"
    with pytest.raises(ClientError) as caught:
        iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument="{not json")
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["all"]  # nothing partially made
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.delete_user_policy(UserName=user, PolicyName="all")
    iam.delete_group_policy(GroupName=group, PolicyName="all")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    iam.delete_policy(PolicyArn=arn)


def test_users_survive_a_restart(fresh_lamina: Any, tmp_path: Any) -> None:
    import os

    os.environ["LAMINA_ROOT_ACCESS_KEY_ID"], os.environ["LAMINA_ROOT_SECRET_ACCESS_KEY"] = "AKIARESTART000000001", "s"
    try:
        server = fresh_lamina("--auth", "sigv4")
        import boto3

        def iam_at(url: str, key: str, secret: str, service: str = "iam") -> Any:
            return boto3.client(
                service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
            )

        iam = iam_at(server.url, "AKIARESTART000000001", "s")
        iam.create_user(UserName="durable")
        key = iam.create_access_key(UserName="durable")["AccessKey"]
        server.kill()
        again = fresh_lamina("--auth", "sigv4")
        sts = iam_at(again.url, key["AccessKeyId"], key["SecretAccessKey"], "sts")
        assert sts.get_caller_identity()["Arn"].endswith(":user/durable")
    finally:
        os.environ.pop("LAMINA_ROOT_ACCESS_KEY_ID")
        os.environ.pop("LAMINA_ROOT_SECRET_ACCESS_KEY")


def test_unknown_condition_operator_is_malformed(client: Client) -> None:
    iam = client("iam")
    name = _name("cond")
    iam.create_user(UserName=name)
    bad = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEqualz": {"aws:username": "a"}},
                }
            ],
        }
    )
    with pytest.raises(ClientError) as caught:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=bad)
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert caught.value.response["Error"]["Message"] == "Invalid Condition type : StringEqualz"
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []
    iam.delete_user(UserName=name)


def test_simulate_principal_policy_explains_decisions(client: Client) -> None:
    iam = client("iam")
    name = _name("sim")
    iam.create_user(UserName=name)
    fn = "arn:aws:lambda:us-east-1:000000000000:function:orders"
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": fn},
                ],
            }
        ),
    )
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::000000000000:user/{name}",
        ActionNames=["lambda:InvokeFunction", "lambda:DeleteFunction", "sqs:SendMessage"],
        ResourceArns=[fn],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny", "implicitDeny"]
    custom = iam.simulate_custom_policy(
        PolicyInputList=[ALLOW_ALL], ActionNames=["sqs:SendMessage"], ResourceArns=["*"]
    )["EvaluationResults"][0]
    assert custom["EvalDecision"] == "allowed"
    assert custom["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
