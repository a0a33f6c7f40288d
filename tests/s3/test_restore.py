"""Archived storage classes on the wire through boto3: a GLACIER object answers GetObject with InvalidObjectState
(403, its StorageClass in the error) until restored, HeadObject and ListObjectsV2 show its class, CopyObject from
it is InvalidObjectState too, RestoreObject answers 202 then RestoreAlreadyInProgress while the copy is made
(x-amz-restore tells), and refuses an object that is not archived. The copy's readiness over time is
tests/s3/test_lifecycle_transitions.py's (virtual time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import json_runner
from tests.server import LaminaProcess


def _error(call: Any) -> tuple[str, str, int, dict[str, Any]]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"][
        "HTTPStatusCode"], response  # fmt: skip


def test_archived_objects_need_a_restore(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="warm", Body=b"here")
    code, message, status, response = _error(lambda: s3.get_object(Bucket=bucket, Key="cold"))
    assert (code, status) == ("InvalidObjectState", 403)
    assert message == "The operation is not valid for the object's storage class"
    assert response["Error"]["StorageClass"] == "GLACIER" and response["StorageClass"] == "GLACIER"
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"cold": "GLACIER", "warm": "STANDARD"}

    copy = {"Bucket": bucket, "Key": "copied", "CopySource": {"Bucket": bucket, "Key": "cold"}}
    assert _error(lambda: s3.copy_object(**copy))[:3] == (
        "InvalidObjectState", "Operation is not valid for the source object's storage class", 403,
    )  # fmt: skip
    assert "copied" not in {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}  # nothing stored
    restore = {"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}}
    answer = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest=restore)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=bucket, Key="cold")["Restore"] == 'ongoing-request="true"'
    assert _error(lambda: s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest=restore))[:3] == (
        "RestoreAlreadyInProgress", "Object restore is already in progress", 409,
    )  # fmt: skip
    assert _error(lambda: s3.get_object(Bucket=bucket, Key="cold"))[0] == "InvalidObjectState"  # not ready yet
    assert _error(lambda: s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest=restore))[:3] == (
        "InvalidObjectState", "Restore is not allowed for the object's current storage class", 403,
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="warm")["Body"].read() == b"here"


def test_aws_cli_restore(lamina: LaminaProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    run = json_runner(tmp_path, lamina.url, "s3api")
    s3.put_object(Bucket=bucket, Key="deep", Body=b"d", StorageClass="DEEP_ARCHIVE")
    assert run("head-object", "--bucket", bucket, "--key", "deep")["StorageClass"] == "DEEP_ARCHIVE"
    run("restore-object", "--bucket", bucket, "--key", "deep", "--restore-request", '{"Days": 3}')
    assert run("head-object", "--bucket", bucket, "--key", "deep")["Restore"] == 'ongoing-request="true"'
    refused = run("get-object", "--bucket", bucket, "--key", "deep", str(tmp_path / "out"), ok=False)
    assert "InvalidObjectState" in refused
