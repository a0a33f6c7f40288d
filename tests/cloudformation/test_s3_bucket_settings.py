"""AWS::S3::Bucket's LifecycleConfiguration, PublicAccessBlockConfiguration, OwnershipControls and AccessControl,
applied on create and update (a removed one goes back to S3's default) and checked through boto3's S3 API; a value
S3 refuses fails the resource with S3's error and rolls back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, failures, outputs
from tests.server import LaminaProcess

SETTINGS = """
Parameters:
  Days: {Type: Number, Default: 30}
  Open: {Type: String, Default: "false"}
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: PublicRead
      OwnershipControls:
        Rules: [{ObjectOwnership: ObjectWriter}]
      PublicAccessBlockConfiguration:
        BlockPublicAcls: !Ref Open
        BlockPublicPolicy: true
        IgnorePublicAcls: false
        RestrictPublicBuckets: true
      LifecycleConfiguration:
        TransitionDefaultMinimumObjectSize: varies_by_storage_class
        Rules:
          - Id: logs
            Status: Enabled
            Prefix: logs/
            ExpirationInDays: !Ref Days
            Transitions:
              - {StorageClass: STANDARD_IA, TransitionInDays: 10}
              - {StorageClass: Glacier, TransitionInDays: 20}
            NoncurrentVersionExpirationInDays: 7
            NoncurrentVersionTransition: {StorageClass: GLACIER_IR, TransitionInDays: 3, NewerNoncurrentVersions: 2}
            AbortIncompleteMultipartUpload: {DaysAfterInitiation: 2}
          - Id: tagged
            Status: Disabled
            TagFilters: [{Key: kind, Value: tmp}]
            ExpirationDate: "2030-01-01T00:00:00Z"
          - Id: sized
            Status: Enabled
            Prefix: big/
            ObjectSizeGreaterThan: "1024"
            TagFilters: [{Key: kind, Value: big}]
            NoncurrentVersionExpiration: {NoncurrentDays: 5, NewerNoncurrentVersions: 1}
          - Id: markers
            Status: Enabled
            ExpiredObjectDeleteMarker: true
Outputs:
  Bucket: {Value: !Ref Files}
"""
BARE = """
Resources:
  Files:
    Type: AWS::S3::Bucket
Outputs:
  Bucket: {Value: !Ref Files}
"""
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
PUBLIC_ACCESS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    code: str = raised.value.response["Error"]["Code"]
    return code


def _update(cfn: Any, name: str, body: str) -> str:
    cfn.update_stack(StackName=name, TemplateBody=body)
    try:
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    except Exception:
        pass
    status: str = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    return status


def test_bucket_settings_applied_then_removed_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(SETTINGS)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    bucket = outputs(stack)["Bucket"]
    s3 = lamina.client("s3")

    found = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert found["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    logs, tagged, sized, markers = found["Rules"]
    assert logs == {
        "ID": "logs",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 30},
        "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}, {"Days": 20, "StorageClass": "GLACIER"}],
        "NoncurrentVersionTransitions": [
            {"NoncurrentDays": 3, "StorageClass": "GLACIER_IR", "NewerNoncurrentVersions": 2}
        ],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
    }
    assert tagged["Status"] == "Disabled" and tagged["Filter"] == {"Tag": {"Key": "kind", "Value": "tmp"}}
    assert tagged["Expiration"]["Date"].isoformat() == "2030-01-01T00:00:00+00:00"
    assert sized["Filter"] == {
        "And": {"Prefix": "big/", "Tags": [{"Key": "kind", "Value": "big"}], "ObjectSizeGreaterThan": 1024}
    }
    assert sized["NoncurrentVersionExpiration"] == {"NoncurrentDays": 5, "NewerNoncurrentVersions": 1}
    assert markers["Filter"] == {"Prefix": ""} and markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants

    assert _update(cfn, name, BARE) == "UPDATE_COMPLETE", events(cfn, name)
    assert outputs(cfn.describe_stacks(StackName=name)["Stacks"][0])["Bucket"] == bucket  # changed in place
    assert _code(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)) == "NoSuchLifecycleConfiguration"
    assert _code(lambda: s3.get_public_access_block(Bucket=bucket)) == "NoSuchPublicAccessBlockConfiguration"
    assert _code(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)) == "OwnershipControlsNotFoundError"
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=bucket)["Grants"]] == ["FULL_CONTROL"]  # private

    assert _update(cfn, name, SETTINGS.replace("Default: 30", "Default: 60")) == "UPDATE_COMPLETE"
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"] == {"Days": 60}
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == rules


BAD_LIFECYCLE = """
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: NAME
      LifecycleConfiguration:
        Rules: [{Id: never, Status: Enabled, ExpirationInDays: 0}]
"""


def test_a_lifecycle_s3_refuses_fails_the_bucket_and_rolls_back(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    bucket = f"cfn-bad-lifecycle-{uuid.uuid4().hex[:8]}"
    stack = deploy(BAD_LIFECYCLE.replace("NAME", bucket))
    name = stack["StackName"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", events(cfn, name)
    assert ("Files", "'Days' for Expiration action must be a positive integer") in failures(cfn, name)
    assert _code(lambda: lamina.client("s3").head_bucket(Bucket=bucket)) == "404"


GUARDED = """
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      OwnershipControls: {Rules: [{ObjectOwnership: BucketOwnerEnforced}]}
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
Outputs:
  Bucket: {Value: !Ref Files}
"""
# ACLs enabled, but Block Public Access still blocks public ACLs: S3 refuses PublicRead with 403 AccessDenied
LOOSENED = """
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: PublicRead
      OwnershipControls: {Rules: [{ObjectOwnership: BucketOwnerPreferred}]}
      PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: false}
Outputs:
  Bucket: {Value: !Ref Files}
"""


def test_a_refused_acl_fails_the_update_and_rolls_the_bucket_back(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(GUARDED)
    name = stack["StackName"]
    bucket = outputs(stack)["Bucket"]
    s3 = lamina.client("s3")
    assert _update(cfn, name, LOOSENED) == "UPDATE_ROLLBACK_COMPLETE", events(cfn, name)
    assert ("Files", "Access Denied") in failures(cfn, name)
    # what the update changed before S3 refused the ACL is put back
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(PUBLIC_ACCESS, True)
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=bucket)["Grants"]] == ["FULL_CONTROL"]


def test_an_unknown_access_control_fails_the_bucket(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    stack = deploy(BARE.replace("Bucket\n", "Bucket\n    Properties:\n      AccessControl: Everyone\n", 1))
    name = stack["StackName"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", events(cfn, name)
    reason = "#/AccessControl: failed validation constraint for keyword [enum]"
    assert ("Files", f"Properties validation failed for resource: {reason}") in failures(cfn, name)
