"""Default bucket encryption through boto3: SSE-S3 for every bucket unless set, aws:kms stored and reported
(objects then show aws:kms and the key id), and objects' ServerSideEncryption in their answers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

DEFAULT = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
KEY = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
KMS = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
                  "BucketKeyEnabled": True}]}  # fmt: skip


def test_default_is_sse_s3(s3: Any, bucket: str) -> None:
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == DEFAULT
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"


def test_kms_configuration_applies_to_new_objects(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=KMS)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == KMS
    put = s3.put_object(Bucket=bucket, Key="after", Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == ("aws:kms", KEY, True)
    head = s3.head_object(Bucket=bucket, Key="after")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KEY)
    assert s3.head_object(Bucket=bucket, Key="before")["ServerSideEncryption"] == "AES256"
    asked = s3.put_object(Bucket=bucket, Key="asked", Body=b"x", ServerSideEncryption="AES256")
    assert asked["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in asked
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == DEFAULT
    assert "SSEKMSKeyId" not in s3.put_object(Bucket=bucket, Key="later", Body=b"x")


def test_bad_configuration_changes_nothing(s3: Any, bucket: str) -> None:
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=KMS)
    with pytest.raises(ClientError) as empty:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": []})
    assert empty.value.response["Error"]["Code"] == "MalformedXML"
    assert empty.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as key_with_aes:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": KEY}}]
            },
        )
    assert key_with_aes.value.response["Error"]["Code"] == "InvalidArgument"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == KMS
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_encryption(Bucket="no-such-bucket-sse")
    assert gone.value.response["Error"]["Code"] == "NoSuchBucket"
