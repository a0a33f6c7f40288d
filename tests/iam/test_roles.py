"""Roles through boto3: create/get/update/list/delete, trust policies, tags, inline and attached policies, and
IAM's errors with their codes, messages and statuses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import BASIC, LAMBDA_TRUST, document, error


def test_create_and_get_role(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    name = f"role-{uuid.uuid4().hex[:10]}"
    created = make_role(name, Path="/service/", Description="runs things", Tags=[{"Key": "team", "Value": "a"}])
    assert created["RoleName"] == name
    assert created["Arn"] == f"arn:aws:iam::000000000000:role/service/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == json.loads(LAMBDA_TRUST)  # botocore decodes the encoded JSON
    got = iam.get_role(RoleName=name)["Role"]
    assert got["Path"] == "/service/"
    assert got["Description"] == "runs things"
    assert got["MaxSessionDuration"] == 3600
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    assert got["RoleLastUsed"] == {}
    assert got["CreateDate"] == created["CreateDate"]


def test_role_errors(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName="no-such-role-here")
    assert error(missing) == ("NoSuchEntity", "The role with name no-such-role-here cannot be found.", 404)
    role = make_role()
    with pytest.raises(ClientError) as twice:
        iam.create_role(RoleName=role["RoleName"].upper(), AssumeRolePolicyDocument=LAMBDA_TRUST)
    assert error(twice) == ("EntityAlreadyExists", f"Role with name {role['RoleName'].upper()} already exists.", 409)
    with pytest.raises(ClientError) as bad_name:
        iam.create_role(RoleName="has space", AssumeRolePolicyDocument=LAMBDA_TRUST)
    assert error(bad_name) == (
        "ValidationError",
        "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        400,
    )


def test_trust_policy_checked(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    with_resource = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Resource": "*",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as bad:
        iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=with_resource)
    assert error(bad) == ("MalformedPolicyDocument", "Has prohibited field Resource", 400)
    with pytest.raises(ClientError) as no_json:
        iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{not json")
    assert error(no_json) == ("MalformedPolicyDocument", "This policy contains invalid Json", 400)
    role = make_role()
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "edgelambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=trust)
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"] == json.loads(trust)


def test_update_role_and_max_session(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    role = make_role()
    iam.update_role(RoleName=role["RoleName"], Description="new", MaxSessionDuration=7200)
    got = iam.get_role(RoleName=role["RoleName"])["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("new", 7200)
    with pytest.raises(ClientError) as too_long:
        iam.update_role(RoleName=role["RoleName"], MaxSessionDuration=50000)
    code, message, status = error(too_long)
    assert (code, status) == ("ValidationError", 400)
    assert (
        "at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
        in message
    )
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["MaxSessionDuration"] == 7200  # nothing changed


def test_list_roles_pages_and_path_prefix(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    prefix = f"/list{uuid.uuid4().hex[:6]}/"
    names = sorted(make_role(Path=prefix)["RoleName"] for _ in range(3))
    first = iam.list_roles(PathPrefix=prefix, MaxItems=2)
    assert [r["RoleName"] for r in first["Roles"]] == names[:2]
    assert first["IsTruncated"] is True
    second = iam.list_roles(PathPrefix=prefix, MaxItems=2, Marker=first["Marker"])
    assert [r["RoleName"] for r in second["Roles"]] == names[2:]
    assert second["IsTruncated"] is False
    paginated = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate(PathPrefix=prefix) for r in p["Roles"]]
    assert paginated == names


def test_tags(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    role = make_role()
    iam.tag_role(RoleName=role["RoleName"], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName=role["RoleName"], TagKeys=["a"])
    assert iam.list_role_tags(RoleName=role["RoleName"])["Tags"] == [{"Key": "b", "Value": "2"}]


def test_inline_policies(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    role = make_role()
    name = role["RoleName"]
    iam.put_role_policy(RoleName=name, PolicyName="queues", PolicyDocument=document("sqs:SendMessage"))
    got = iam.get_role_policy(RoleName=name, PolicyName="queues")
    assert got["PolicyDocument"] == json.loads(document("sqs:SendMessage"))
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["queues"]
    with pytest.raises(ClientError) as conflict:
        iam.delete_role(RoleName=name)
    assert error(conflict) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    iam.delete_role_policy(RoleName=name, PolicyName="queues")
    with pytest.raises(ClientError) as gone:
        iam.get_role_policy(RoleName=name, PolicyName="queues")
    assert error(gone) == ("NoSuchEntity", "The role policy with name queues cannot be found.", 404)


def test_attach_aws_managed_policy(iam: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    role = make_role()
    name = role["RoleName"]
    iam.attach_role_policy(RoleName=name, PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    assert iam.get_policy(PolicyArn=BASIC)["Policy"]["AttachmentCount"] >= 1
    with pytest.raises(ClientError) as conflict:
        iam.delete_role(RoleName=name)
    assert error(conflict) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
    iam.detach_role_policy(RoleName=name, PolicyArn=BASIC)
    with pytest.raises(ClientError) as not_attached:
        iam.detach_role_policy(RoleName=name, PolicyArn=BASIC)
    assert error(not_attached) == ("NoSuchEntity", f"Policy {BASIC} was not found.", 404)
    missing = "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
    with pytest.raises(ClientError) as unknown:
        iam.attach_role_policy(RoleName=name, PolicyArn=missing)
    assert error(unknown) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404)
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=name)


def test_attached_policies_limit(iam: Any, make_policy: Any, make_role: Callable[..., dict[str, Any]]) -> None:
    role = make_role()
    for _ in range(10):
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=make_policy()["Arn"])
    with pytest.raises(ClientError) as limit:
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=make_policy()["Arn"])
    assert error(limit) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10", 409)
