"""AWS::S3::Bucket's CorsConfiguration and BucketEncryption, applied on create and update (removed: no CORS, and
SSE-S3 again) and checked through boto3's S3 API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, outputs
from tests.server import LaminaProcess

KEY = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
CONFIGURED = f"""
Resources:
  Site:
    Type: AWS::S3::Bucket
    Properties:
      CorsConfiguration:
        CorsRules:
          - Id: app
            AllowedOrigins: ["https://app.example.com"]
            AllowedMethods: [GET, PUT]
            AllowedHeaders: ["*"]
            ExposedHeaders: [ETag]
            MaxAge: 300
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - BucketKeyEnabled: true
            ServerSideEncryptionByDefault: {{SSEAlgorithm: "aws:kms", KMSMasterKeyID: "{KEY}"}}
Outputs:
  Bucket: {{Value: !Ref Site}}
"""
BARE = """
Resources:
  Site:
    Type: AWS::S3::Bucket
Outputs:
  Bucket: {Value: !Ref Site}
"""
SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}


def test_cors_and_encryption_applied_then_removed(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(CONFIGURED)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    bucket = outputs(stack)["Bucket"]
    s3 = lamina.client("s3")
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [
        {
            "ID": "app",
            "AllowedOrigins": ["https://app.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        }
    ]
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
                "BucketKeyEnabled": True,
            }
        ]
    }
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["SSEKMSKeyId"] == KEY

    cfn.update_stack(StackName=name, TemplateBody=BARE)
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_cors(Bucket=bucket)
    assert gone.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == SSE_S3
    s3.delete_object(Bucket=bucket, Key="k")
