"""S3 ACLs, Object Ownership and Block Public Access through boto3 and the aws CLI against a real server, with
AWS's defaults of today: a new bucket is BucketOwnerEnforced (ACLs disabled) with all of Block Public Access on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import json_runner
from tests.s3.conftest import empty_bucket
from tests.server import LaminaProcess

OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def _owner_only(policy: dict[str, Any]) -> bool:
    grants = policy["Grants"]
    return (
        policy["Owner"]["ID"] == OWNER_ID
        and len(grants) == 1
        and grants[0]["Permission"] == "FULL_CONTROL"
        and grants[0]["Grantee"]["Type"] == "CanonicalUser"
        and grants[0]["Grantee"]["ID"] == OWNER_ID
    )


def test_new_bucket_defaults(s3: Any, bucket: str) -> None:
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    assert _owner_only(s3.get_bucket_acl(Bucket=bucket))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _owner_only(s3.get_object_acl(Bucket=bucket, Key="k"))


def test_acls_disabled_by_bucket_owner_enforced(s3: Any, bucket: str) -> None:
    refused = ("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")) == refused
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{OWNER_ID}"')) == refused
    public = {"Owner": {"ID": OWNER_ID}, "Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS},
              "Permission": "READ"}]}  # fmt: skip
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=public)) == refused
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="public-read")) == refused
    assert _error(lambda: s3.head_object(Bucket=bucket, Key="p"))[2] == 404  # nothing stored
    assert _error(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="authenticated-read")) == refused
    assert _error(lambda: s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=public)) == refused
    assert _owner_only(s3.get_object_acl(Bucket=bucket, Key="k"))
    code, _, status = _error(lambda: s3.put_object_acl(Bucket=bucket, Key="missing", ACL="private"))
    assert (code, status) == ("NoSuchKey", 404)


def test_create_bucket_with_acls(s3: Any) -> None:
    name = f"b-{uuid.uuid4().hex[:16]}"
    assert _error(lambda: s3.create_bucket(Bucket=name, ACL="public-read")) == (
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        400,
    )
    assert _error(lambda: s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="ObjectWriter")) == (
        "InvalidBucketAclWithBlockPublicAccessError",
        "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
        400,
    )
    assert _error(lambda: s3.head_bucket(Bucket=name))[2] == 404  # neither made the bucket
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", GrantRead=f'id="{OWNER_ID}"')
    try:
        controls = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
        assert controls == {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        grants = s3.get_bucket_acl(Bucket=name)["Grants"]
        assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [(OWNER_ID, "READ")]
    finally:
        empty_bucket(s3, name)


def test_acls_when_enabled(s3: Any, bucket: str) -> None:
    """ObjectWriter enables ACLs; Block Public Access still refuses public ones until it is turned off."""
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessDenied", "Access Denied", 403)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False,
    }  # fmt: skip
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [(g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"]) for g in grants] == [
        (OWNER_ID, "FULL_CONTROL"), (ALL_USERS, "READ"),
    ]  # fmt: skip
    assert grants[1]["Grantee"]["Type"] == "Group"
    s3.put_object(
        Bucket=bucket, Key="k", Body=b"x", GrantRead=f'uri="{ALL_USERS}"', GrantFullControl=f'id="{OWNER_ID}"'
    )
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert {(g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"]) for g in grants} == {
        (OWNER_ID, "FULL_CONTROL"), (ALL_USERS, "READ"),
    }  # fmt: skip
    policy = {"Owner": {"ID": OWNER_ID}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "WRITE_ACP"}]}  # fmt: skip
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy)
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [(OWNER_ID, "WRITE_ACP")]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"  # the ACL changed, not the bytes
    code, _, _ = _error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="private", GrantRead=f'id="{OWNER_ID}"'))
    assert code == "InvalidRequest"
    assert (
        _error(
            lambda: s3.put_bucket_ownership_controls(
                Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
            )
        )[0]
        == "InvalidBucketAclWithObjectOwnership"
    )  # the bucket's public-read ACL must go first
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )


def test_delete_controls_and_block(s3: Any, bucket: str) -> None:
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert _error(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)) == (
        "OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404,
    )  # fmt: skip
    s3.delete_public_access_block(Bucket=bucket)
    assert _error(lambda: s3.get_public_access_block(Bucket=bucket)) == (
        "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", 404,
    )  # fmt: skip
    s3.put_object(Bucket=bucket, Key="open", Body=b"x", ACL="public-read")  # ACLs work again, nothing blocks
    assert len(s3.get_object_acl(Bucket=bucket, Key="open")["Grants"]) == 2
    code, message, _ = _error(lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={}))
    assert (code, message) == ("InvalidRequest", "Must specify at least one configuration.")
    assert _error(lambda: s3.get_bucket_acl(Bucket="no-such-bucket-here"))[0] == "NoSuchBucket"


def test_aws_cli_acls(lamina: LaminaProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    aws = json_runner(tmp_path, lamina.url)
    acl = aws("s3api", "get-bucket-acl", "--bucket", bucket)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    controls = aws("s3api", "get-bucket-ownership-controls", "--bucket", bucket)
    assert controls["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    aws("s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false")  # fmt: skip
    block = aws("s3api", "get-public-access-block", "--bucket", bucket)["PublicAccessBlockConfiguration"]
    assert (block["BlockPublicAcls"], block["IgnorePublicAcls"]) == (True, False)
