"""Object tagging through boto3 against a real server: Put/Get/DeleteObjectTagging, tags from PutObject's
x-amz-tagging, versions, and S3's errors (nothing changed when refused)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two"},
    ]  # fmt: skip
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "c", "Value": "3"}]
    many = {"TagSet": [{"Key": f"t{n}", "Value": "v"} for n in range(11)]}
    assert _code(lambda: s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=many)) == "BadRequest"
    twice = {"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]}
    assert _code(lambda: s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=twice)) == "InvalidTag"
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert _code(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing")) == "NoSuchKey"


def test_tags_of_versions(s3: Any, make_bucket: Any) -> None:
    bucket = make_bucket(versioned=True)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"2", Tagging="v=2")
    got = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=first)
    assert (got["TagSet"], got["VersionId"]) == ([{"Key": "v", "Value": "1"}], first)
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "v", "Value": "2"}]
