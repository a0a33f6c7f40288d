"""Bucket CORS through boto3, and its effect on the wire: preflight OPTIONS (path and virtual-host style, also
under --auth sigv4, where the preflight is never signed) and actual requests carrying Origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.server import LaminaProcess

_HTTP = urllib3.PoolManager()
RULES = [
    {
        "ID": "app",
        "AllowedOrigins": ["https://app.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]
NOT_ALLOWED = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin"


def _options(url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    return _HTTP.request("OPTIONS", url, headers=headers, retries=False)


def _code(response: urllib3.BaseHTTPResponse) -> str:
    text = response.data.decode()
    return text.split("<Code>")[1].split("</Code>")[0]


def test_put_get_delete_cors(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_cors(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert missing.value.response["Error"]["Message"] == "The CORS configuration does not exist"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_bad_cors_changes_nothing(s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    with pytest.raises(ClientError) as bad:
        s3.put_bucket_cors(
            Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
        )
    assert bad.value.response["Error"]["Code"] == "InvalidRequest"
    assert "Unsupported method is PATCH" in bad.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as empty:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": []})
    assert empty.value.response["Error"]["Code"] == "MalformedXML"
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_cors(Bucket="no-such-bucket-cors")
    assert gone.value.response["Error"]["Code"] == "NoSuchBucket"


def test_preflight_path_style(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    url = f"{lamina.url}/{bucket}/photos/a.jpg"
    asked = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    disabled = _options(url, asked)
    assert disabled.status == 403 and _code(disabled) == "AccessForbidden"
    assert "CORSResponse: CORS is not enabled for this bucket." in disabled.data.decode()
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    ok = _options(url, {**asked, "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Tag"})
    assert ok.status == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert ok.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert ok.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-tag"
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag"
    assert ok.headers["Access-Control-Max-Age"] == "600"
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    assert ok.headers["Vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    anyone = _options(url, {"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "HEAD"})
    assert anyone.status == 200 and anyone.headers["Access-Control-Allow-Origin"] == "*"
    for refused in (
        {"Origin": "https://evil.test", "Access-Control-Request-Method": "PUT"},
        {**asked, "Access-Control-Request-Method": "DELETE"},
        {**asked, "Access-Control-Request-Headers": "authorization"},
    ):
        answer = _options(url, refused)
        assert answer.status == 403 and _code(answer) == "AccessForbidden"
        assert NOT_ALLOWED in answer.data.decode()
        assert "Access-Control-Allow-Origin" not in answer.headers
    no_method = _options(url, {"Origin": "https://app.example.com"})
    assert no_method.status == 400 and _code(no_method) == "BadRequest"


def test_preflight_virtual_host(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    answer = _options(
        f"{lamina.url}/a.jpg",
        {
            "Host": f"{bucket}.s3.localhost:{lamina.port}",
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "x-amz-request-id" in answer.headers


def test_actual_requests_get_cors_headers(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    signed = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"})
    before = _HTTP.request("GET", signed, headers={"Origin": "https://app.example.com"})
    assert before.status == 200 and "Access-Control-Allow-Origin" not in before.headers
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    after = _HTTP.request("GET", signed, headers={"Origin": "https://app.example.com"})
    assert after.status == 200 and after.data == b"hello"
    assert after.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert after.headers["Access-Control-Expose-Headers"] == "ETag"
    assert "Access-Control-Allow-Headers" not in after.headers
    other = _HTTP.request("GET", signed, headers={"Origin": "https://evil.test"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers
    plain = _HTTP.request("GET", signed)
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_cors_survives_restart(tmp_path: Path) -> None:
    server = LaminaProcess(tmp_path).start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="durable-cors")
        s3.put_bucket_cors(Bucket="durable-cors", CORSConfiguration={"CORSRules": RULES})
    finally:
        server.stop()
    again = LaminaProcess(tmp_path).start()
    try:
        assert again.client("s3").get_bucket_cors(Bucket="durable-cors")["CORSRules"] == RULES
    finally:
        again.stop()


def test_unsigned_preflight_under_sigv4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMINA_ROOT_ACCESS_KEY_ID", "AKIACORSTESTKEY00001")
    monkeypatch.setenv("LAMINA_ROOT_SECRET_ACCESS_KEY", "cors-secret-for-tests-only-0123456789ab")
    server = LaminaProcess(tmp_path, "--auth", "sigv4").start()
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="AKIACORSTESTKEY00001",
            aws_secret_access_key="cors-secret-for-tests-only-0123456789ab",
        )
        s3.create_bucket(Bucket="secured-cors")
        s3.put_bucket_cors(Bucket="secured-cors", CORSConfiguration={"CORSRules": RULES})
        answer = _options(
            f"{server.url}/secured-cors/k",
            {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    finally:
        server.stop()


def test_preflight_to_another_apis_path_is_not_a_buckets(lamina: LaminaProcess) -> None:
    # "2015-03-31" is a valid bucket name, but that path is the Lambda API's: S3's CORS door leaves it alone.
    asked = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    answer = _options(f"{lamina.url}/2015-03-31/functions/", asked)
    assert b"CORSResponse" not in answer.data
    assert "x-amz-id-2" not in answer.headers
