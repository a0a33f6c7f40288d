"""Buckets through boto3 against a real Lamina: create/head/list/delete, tagging, versioning, AWS's errors,
path-style and virtual-hosted addressing."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.server import LaminaProcess


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int, dict[str, Any]]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"],
    )


def test_create_head_list_delete(s3: Any) -> None:
    name = f"b-{uuid.uuid4().hex[:12]}"
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["BucketRegion"] == "us-east-1"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in names
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    code, _, status, _ = error_of(s3.head_bucket, Bucket=name)
    assert (code, status) == ("404", 404)
    code, message, status, error = error_of(s3.delete_bucket, Bucket=name)
    assert (code, message, status, error["BucketName"]) == (
        "NoSuchBucket",
        "The specified bucket does not exist",
        404,
        name,
    )


def test_create_twice_in_us_east_1_is_ok_elsewhere_owned_by_you(lamina: LaminaProcess, s3: Any) -> None:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # AWS's legacy us-east-1 answer: 200
    west = lamina.client("s3", region="eu-west-1")
    other = f"b-{uuid.uuid4().hex[:12]}"
    west.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code, message, status, _ = error_of(
        west.create_bucket, Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert (code, status) == ("BucketAlreadyOwnedByYou", 409)
    assert message == "Your previous request to create the named bucket succeeded and you already own it."
    assert west.get_bucket_location(Bucket=other)["LocationConstraint"] == "eu-west-1"
    s3.delete_bucket(Bucket=name)
    west.delete_bucket(Bucket=other)


@pytest.mark.parametrize("name", ["ab", "UPPER-case", "a..b", "192.168.1.1", "-start", "xn--punycode", "a" * 64])
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    # botocore refuses some names itself (ParamValidationError) before sending: go around it for those
    try:
        code, message, status, _ = error_of(s3.create_bucket, Bucket=name)
    except Exception as exc:  # botocore's own check (it validates the characters)
        assert "Invalid bucket name" in str(exc)
        return
    assert (code, message, status) == ("InvalidBucketName", "The specified bucket is not valid.", 400)


def test_not_empty_then_empty(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, message, status, _ = error_of(s3.delete_bucket, Bucket=bucket)
    assert (code, message, status) == ("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_tagging(s3: Any, bucket: str) -> None:
    code, message, status, _ = error_of(s3.get_bucket_tagging, Bucket=bucket)
    assert (code, message, status) == ("NoSuchTagSet", "The TagSet does not exist", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "imaging"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "imaging"}]
    code, _, status, _ = error_of(
        s3.put_bucket_tagging,
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
    )
    assert (code, status) == ("InvalidTag", 400)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "imaging"}]  # unchanged
    s3.delete_bucket_tagging(Bucket=bucket)
    assert error_of(s3.get_bucket_tagging, Bucket=bucket)[0] == "NoSuchTagSet"


def test_versioning_states(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"0")  # the "null" version, from before versioning
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"2"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"0"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    code, _, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k")
    assert (code, status) == ("NoSuchKey", 404)
    code, _, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert (code, status) == ("MethodNotAllowed", 405)
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1, "null"]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # removing the marker brings v2 back
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"2"
    # Suspended: writes replace the "null" version
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"3")
    assert put.get("VersionId") in (None, "null")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", v2, v1]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"3"
    code, _, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId="A" * 32)
    assert (code, status) == ("NoSuchVersion", 404)


def test_malformed_versioning_xml(lamina: LaminaProcess, bucket: str) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{lamina.url}/{bucket}?versioning",
        data=b"<VersioningConfiguration><Status>Enabled",
        method="PUT",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, x"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 400
    assert b"<Code>MalformedXML</Code>" in raised.value.read()


def test_virtual_hosted_style(lamina: LaminaProcess, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost:{lamina.port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    # *.localhost is loopback (RFC 6761), but not every resolver says so: resolve it here as browsers do
    import socket

    real = socket.getaddrinfo

    def loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if str(host).endswith(".localhost") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    client.put_object(Bucket=bucket, Key="v/h.txt", Body=b"virtual")
    assert client.get_object(Bucket=bucket, Key="v/h.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["v/h.txt"]


def test_virtual_host_header_unsigned(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    import http.client

    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"by host")
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port)
    conn.request("GET", "/plain.txt", headers={"Host": f"{bucket}.s3.localhost:{lamina.port}"})
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"by host")
    conn.close()
