"""Lambda code from S3: CreateFunction, UpdateFunctionCode and PublishLayerVersion with S3Bucket/S3Key/
S3ObjectVersion against a real Lamina, and AWS's errors when the bucket, key or version is missing."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.s3.test_buckets import error_of


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _answer(lambda_client: Any, name: str, **kwargs: Any) -> Any:
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    return json.loads(lambda_client.invoke(FunctionName=name, Payload=b"{}", **kwargs)["Payload"].read())


def _code(answer: str) -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {answer!r}\n"})


def test_create_and_update_from_s3(
    s3: Any, lambda_client: Any, make_bucket: Callable[..., str], create_function: Callable[..., Any]
) -> None:
    bucket = make_bucket(versioned=True)
    first, second = _code("first"), _code("second")
    v1 = s3.put_object(Bucket=bucket, Key="pkg/app.zip", Body=first)["VersionId"]
    s3.put_object(Bucket=bucket, Key="pkg/app.zip", Body=second)
    name = f"fn-{uuid.uuid4().hex[:12]}"
    created = create_function(name, Code={"S3Bucket": bucket, "S3Key": "pkg/app.zip", "S3ObjectVersion": v1})
    assert created["CodeSha256"] == _sha256(first)
    assert created["CodeSize"] == len(first)
    assert _answer(lambda_client, name) == "first"
    updated = lambda_client.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/app.zip")
    assert updated["CodeSha256"] == _sha256(second)
    assert _answer(lambda_client, name) == "second"


def test_missing_bucket_key_and_version(
    s3: Any, lambda_client: Any, bucket: str, create_function: Callable[..., Any]
) -> None:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    code, message, status, _ = error_of(
        lambda_client.create_function, FunctionName=name, Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role", Handler="app.handler",
        Code={"S3Bucket": "no-such-bucket-for-code", "S3Key": "app.zip"},
    )  # fmt: skip
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == (
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does "
        "not exist"
    )
    code, message, status, _ = error_of(
        lambda_client.create_function, FunctionName=name, Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role", Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "missing.zip"},
    )  # fmt: skip
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
    )
    assert error_of(lambda_client.get_function, FunctionName=name)[0] == "ResourceNotFoundException"
    create_function(name)
    code, message, _, _ = error_of(lambda_client.update_function_code, FunctionName=name, S3Bucket=bucket,
                                   S3Key="missing.zip")  # fmt: skip
    assert "S3 Error Code: NoSuchKey." in message
    s3.put_object(Bucket=bucket, Key="bad.zip", Body=b"not a zip")
    code, message, _, _ = error_of(lambda_client.update_function_code, FunctionName=name, S3Bucket=bucket,
                                   S3Key="bad.zip")  # fmt: skip
    assert (code, message) == (
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )
    assert _answer(lambda_client, name) == {}  # the function kept its code


def test_layer_from_s3(s3: Any, lambda_client: Any, bucket: str) -> None:
    content = make_zip({"python/helper.py": "VALUE = 42\n"})
    s3.put_object(Bucket=bucket, Key="layers/helper.zip", Body=content)
    layer = f"layer-{uuid.uuid4().hex[:10]}"
    published = lambda_client.publish_layer_version(
        LayerName=layer, Content={"S3Bucket": bucket, "S3Key": "layers/helper.zip"}
    )
    try:
        assert published["Content"]["CodeSha256"] == _sha256(content)
        assert published["Content"]["CodeSize"] == len(content)
        with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="S3 Error Code: NoSuchKey"):
            lambda_client.publish_layer_version(LayerName=layer, Content={"S3Bucket": bucket, "S3Key": "nope.zip"})
    finally:
        lambda_client.delete_layer_version(LayerName=layer, VersionNumber=published["Version"])
