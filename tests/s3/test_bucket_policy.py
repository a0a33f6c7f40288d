"""Put/Get/DeleteBucketPolicy through boto3: stored and answered as AWS answers (AWS::S3::BucketPolicy and SAM CLI's
managed bucket use them), with S3's errors for a malformed or missing policy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::x/*"}],
}


def test_bucket_policy(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_policy(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert missing.value.response["Error"]["Message"] == "The bucket policy does not exist"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(POLICY))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == POLICY
    with pytest.raises(ClientError) as malformed:
        s3.put_bucket_policy(Bucket=bucket, Policy="not json")
    assert malformed.value.response["Error"]["Code"] == "MalformedPolicy"
    assert malformed.value.response["Error"]["Message"] == "Policies must be valid JSON and the first byte must be '{'"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == POLICY  # nothing changed
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as no_bucket:
        s3.put_bucket_policy(Bucket="no-such-bucket-here-at-all", Policy=json.dumps(POLICY))
    assert no_bucket.value.response["Error"]["Code"] == "NoSuchBucket"
