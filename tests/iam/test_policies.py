"""Managed policies through boto3: create/get/list/delete, versions (create/get/list/delete/set default, the
limit of five), AWS managed policies SAM references, and IAM's errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import BASIC, document, error

SAM_MANAGED = [
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
]


def test_create_get_delete_policy(iam: Any, make_policy: Callable[..., dict[str, Any]]) -> None:
    policy = make_policy(Path="/app/", Description="queues")
    assert policy["Arn"] == f"arn:aws:iam::000000000000:policy/app/{policy['PolicyName']}"
    assert policy["PolicyId"].startswith("ANPA")
    assert (policy["DefaultVersionId"], policy["AttachmentCount"], policy["IsAttachable"]) == ("v1", 0, True)
    got = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert got["Description"] == "queues"
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(document("sqs:*"))
    assert version["IsDefaultVersion"] is True
    with pytest.raises(ClientError) as twice:
        iam.create_policy(PolicyName=policy["PolicyName"], PolicyDocument=document("sqs:*"))
    assert error(twice) == (
        "EntityAlreadyExists",
        f"A policy called {policy['PolicyName']} already exists. Duplicate names are not allowed.",
        409,
    )
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(ClientError) as gone:
        iam.get_policy(PolicyArn=policy["Arn"])
    assert error(gone) == ("NoSuchEntity", f"Policy {policy['Arn']} was not found.", 404)


def test_policy_versions(iam: Any, make_policy: Callable[..., dict[str, Any]]) -> None:
    arn = make_policy()["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("sns:Publish"), SetAsDefault=True)
    assert (v2["PolicyVersion"]["VersionId"], v2["PolicyVersion"]["IsDefaultVersion"]) == ("v2", True)
    assert "Document" not in v2["PolicyVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("sqs:SendMessage"))
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [
        ("v5", False),
        ("v4", False),
        ("v3", False),
        ("v2", True),
        ("v1", False),
    ]
    with pytest.raises(ClientError) as limit:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("sqs:SendMessage"))
    assert error(limit) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    with pytest.raises(ClientError) as default:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert error(default) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    with pytest.raises(ClientError) as missing:
        iam.get_policy_version(PolicyArn=arn, VersionId="v2")
    assert error(missing) == ("NoSuchEntity", f"Policy {arn} version v2 does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as has_versions:
        iam.delete_policy(PolicyArn=arn)
    assert error(has_versions)[0] == "DeleteConflict"


def test_attached_policy_cannot_be_deleted(
    iam: Any, make_policy: Callable[..., dict[str, Any]], make_role: Callable[..., dict[str, Any]]
) -> None:
    policy = make_policy()
    role = make_role()
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as attached:
        iam.delete_policy(PolicyArn=policy["Arn"])
    assert error(attached) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    local = iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]
    assert policy["Arn"] in [p["Arn"] for p in local]


@pytest.mark.parametrize("arn", SAM_MANAGED)
def test_aws_managed_policies_resolve(iam: Any, arn: str) -> None:
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["Arn"] == arn
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"]["Version"] == "2012-10-17"
    assert version["Document"]["Statement"]


def test_list_aws_policies(iam: Any) -> None:
    names = [
        p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(Scope="AWS") for p in page["Policies"]
    ]
    assert "AWSLambdaBasicExecutionRole" in names
    assert names == sorted(names, key=str.lower)
    with pytest.raises(ClientError) as read_only:
        iam.delete_policy(PolicyArn=BASIC)
    assert error(read_only)[0::2] == ("AccessDenied", 403)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "This policy contains invalid Json"),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}
            ),
            "Syntax errors in policy.",
        ),
        (
            json.dumps(
                {
                    "Version": "2008-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}"}],
                }
            ),
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            "Policy statement must contain actions.",
        ),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
            "Policy statement must contain resources.",
        ),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3", "Resource": "*"}]}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}]}
            ),
            'Resource bucket must be in ARN format or "*".',
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}],
                }
            ),
            "Policy document should not specify a principal.",
        ),
    ],
)
def test_malformed_policy_documents(iam: Any, text: str, message: str) -> None:
    with pytest.raises(ClientError) as bad:
        iam.create_policy(PolicyName="never-created", PolicyDocument=text)
    assert error(bad) == ("MalformedPolicyDocument", message, 400)
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn="arn:aws:iam::000000000000:policy/never-created")
