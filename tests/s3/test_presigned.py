"""Presigned URLs (SigV4 query authentication) as boto3 makes them, used with a plain HTTP client: GET and PUT
work until the URL's expiry, then AWS's 403 AccessDenied "Request has expired"."""

from __future__ import annotations

import datetime
import hashlib
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import pytest

from tests.server import LaminaProcess


@pytest.fixture(scope="module", params=["s3v4", "default"])
def signer(request: pytest.FixtureRequest, lamina: LaminaProcess) -> Any:
    """A client that presigns with SigV4 query auth (`s3v4`), or as boto3 does unconfigured (SigV2's)."""
    if request.param == "s3v4":
        return lamina.client("s3", signature_version="s3v4")
    return lamina.client("s3")


def _signed_earlier(url: str, seconds: int) -> str:
    """The same URL as if it had been signed `seconds` ago (Lamina does not verify signatures, only expiry)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    if "Expires" in query:  # SigV2: the epoch second the URL ends
        query["Expires"] = str(int(query["Expires"]) - seconds)
        return urlunsplit(parts._replace(query=urlencode(query)))
    signed = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    query["X-Amz-Date"] = (signed - datetime.timedelta(seconds=seconds)).strftime("%Y%m%dT%H%M%SZ")
    return urlunsplit(parts._replace(query=urlencode(query)))


def _fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_presigned_put_then_get(s3: Any, signer: Any, bucket: str) -> None:
    put_url = signer.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up/file.txt"}, ExpiresIn=300
    )
    assert "X-Amz-Signature=" in put_url or "&Signature=" in put_url
    status, headers, _ = _fetch(put_url, "PUT", b"sent without boto3")
    assert status == 200
    assert headers["etag"] == f'"{hashlib.md5(b"sent without boto3").hexdigest()}"'
    assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
    assert s3.get_object(Bucket=bucket, Key="up/file.txt")["Body"].read() == b"sent without boto3"
    get_url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up/file.txt"}, ExpiresIn=60)
    status, headers, body = _fetch(get_url)
    assert (status, body) == (200, b"sent without boto3")
    status, _, body = _fetch(signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"}))
    assert status == 404
    assert ElementTree.fromstring(body).findtext("Code") == "NoSuchKey"


def test_an_expired_url_is_refused(s3: Any, signer: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    status, headers, body = _fetch(_signed_earlier(url, 61))
    assert status == 403
    error = ElementTree.fromstring(body)
    assert (error.findtext("Code"), error.findtext("Message")) == ("AccessDenied", "Request has expired")
    if "X-Amz-Expires" in url:
        assert error.findtext("X-Amz-Expires") == "60"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", error.findtext("Expires") or "")
    assert error.findtext("RequestId") == headers["x-amz-request-id"]
    assert error.findtext("HostId") == headers["x-amz-id-2"]
    # a URL still within its time works
    assert _fetch(_signed_earlier(url, 30))[0] == 200
    put_url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "late"}, ExpiresIn=10)
    status, _, body = _fetch(_signed_earlier(put_url, 3600), "PUT", b"too late")
    assert status == 403
    assert ElementTree.fromstring(body).findtext("Message") == "Request has expired"
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert names == ["k"]  # the refused PUT stored nothing


def test_expiry_over_a_week_is_refused(lamina: LaminaProcess, bucket: str) -> None:
    url = lamina.client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
    )
    status, _, body = _fetch(url.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"))
    assert status == 400
    error = ElementTree.fromstring(body)
    assert error.findtext("Code") == "AuthorizationQueryParametersError"
    assert error.findtext("Message") == "X-Amz-Expires must be less than a week (in seconds) that is; 604800"
