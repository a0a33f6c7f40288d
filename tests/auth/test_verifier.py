"""The SigV4 verifier against botocore's own signer, in virtual time (no server)."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.api.messages import Request
from lamina.auth.sigv4 import AuthFailure, Failure, Secret, Verifier
from lamina.clock import ManualClock

KEY, SECRET = "AKIAEXAMPLE000000001", "secret/with+chars0123456789abcdefghijklm"
NOW = 1_800_000_000.0


def _lookup(key: str) -> Secret | None:
    return Secret(SECRET, "arn:aws:iam::000000000000:root") if key == KEY else None


def _verifier(clock: ManualClock) -> Verifier:
    return Verifier(_lookup, clock.time)


def _signed(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    service: str = "lambda",
    secret: str = SECRET,
    at: float = NOW,
    signer: type = SigV4Auth,
) -> Request:
    aws = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    when = datetime.datetime.fromtimestamp(at, datetime.UTC)
    with mock.patch("botocore.auth.datetime.datetime") as fake:
        fake.now.return_value = when
        fake.utcnow.return_value = when.replace(tzinfo=None)
        signer(Credentials(KEY, secret), service, "us-east-1").add_auth(aws)
    parts = urlsplit(aws.url)
    sent = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in aws.headers.items()}
    sent["host"] = parts.netloc
    return Request(method, parts.path, parts.query, sent, body)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:4566/2015-03-31/functions/my-fn/invocations",
        "http://localhost:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/code",
        "http://localhost:4566/2015-03-31/functions/?Marker=a%2Fb&MaxItems=5&FunctionVersion=ALL",
        "http://localhost:4566/a/./b/../c",
    ],
)
def test_botocore_signatures_verify(url: str) -> None:
    request = _signed("POST", url, b'{"a": 1}', {"Content-Type": "application/json", "X-Amz-Target": "  a   b "})
    assert _verifier(ManualClock(NOW)).verify(request, "lambda").principal.endswith(":root")


def test_wrong_secret_and_unknown_key() -> None:
    verifier = _verifier(ManualClock(NOW))
    with pytest.raises(AuthFailure) as caught:
        verifier.verify(_signed("GET", "http://h/x", secret="other"), "lambda")
    assert caught.value.kind is Failure.SIGNATURE
    request = _signed("GET", "http://h/x")
    request.headers["authorization"] = request.headers["authorization"].replace(KEY, "AKIAOTHER")
    with pytest.raises(AuthFailure) as caught:
        verifier.verify(request, "lambda")
    assert caught.value.kind is Failure.UNKNOWN_KEY


def test_a_changed_body_or_signed_header_fails() -> None:
    verifier = _verifier(ManualClock(NOW))
    request = _signed("POST", "http://h/x", b"one", {"X-Amz-Target": "A"})
    request.body = b"two"
    with pytest.raises(AuthFailure):
        verifier.verify(request, "lambda")
    request = _signed("POST", "http://h/x", b"one", {"X-Amz-Target": "A"})
    request.headers["x-amz-target"] = "B"
    with pytest.raises(AuthFailure):
        verifier.verify(request, "lambda")


def test_skew_window_is_fifteen_minutes_each_way() -> None:
    request = _signed("GET", "http://h/x")
    _verifier(ManualClock(NOW + 899)).verify(request, "lambda")
    _verifier(ManualClock(NOW - 899)).verify(request, "lambda")
    with pytest.raises(AuthFailure) as caught:
        _verifier(ManualClock(NOW + 901)).verify(request, "lambda")
    assert caught.value.message.startswith("Signature expired: ")
    assert caught.value.message.endswith("- 15 min.)")
    with pytest.raises(AuthFailure) as caught:
        _verifier(ManualClock(NOW - 901)).verify(request, "lambda")
    assert caught.value.message.startswith("Signature not yet current: ")


def test_scope_must_name_the_service() -> None:
    with pytest.raises(AuthFailure) as caught:
        _verifier(ManualClock(NOW)).verify(_signed("GET", "http://h/x", service="sqs"), "lambda")
    assert caught.value.message == "Credential should be scoped to correct service: 'lambda'."


def test_presigned_url_and_its_expiry() -> None:
    class Presign(SigV4QueryAuth):  # type: ignore[misc]
        def __init__(self, credentials: Credentials, service: str, region: str) -> None:
            super().__init__(credentials, service, region, expires=60)

    request = _signed("GET", "http://h/?Action=GetCallerIdentity&Version=2011-06-15", service="sts", signer=Presign)
    _verifier(ManualClock(NOW + 59)).verify(request, "sts")
    with pytest.raises(AuthFailure) as caught:
        _verifier(ManualClock(NOW + 61)).verify(request, "sts")
    assert caught.value.message.startswith("Signature expired: ")


def test_s3_payload_hash_header_and_unsigned_payload() -> None:
    request = _signed("PUT", "http://h/bucket/a%20key", b"data", service="s3", signer=S3SigV4Auth)
    assert "x-amz-content-sha256" in request.headers
    _verifier(ManualClock(NOW)).verify(request, "s3")
    request.body = b"other"  # the claimed hash no longer matches the body
    with pytest.raises(AuthFailure):
        _verifier(ManualClock(NOW)).verify(request, "s3")


def test_session_token_must_match() -> None:
    def lookup(key: str) -> Secret | None:
        return Secret(SECRET, "arn:aws:sts::000000000000:assumed-role/r/s", "token-1", NOW + 60)

    aws = AWSRequest(method="GET", url="http://h/x")
    when = datetime.datetime.fromtimestamp(NOW, datetime.UTC)
    with mock.patch("botocore.auth.datetime.datetime") as fake:
        fake.now.return_value = when
        SigV4Auth(Credentials(KEY, SECRET, "token-2"), "lambda", "us-east-1").add_auth(aws)
    headers = {k.lower(): str(v) for k, v in aws.headers.items()} | {"host": "h"}
    with pytest.raises(AuthFailure) as caught:
        Verifier(lookup, ManualClock(NOW).time).verify(Request("GET", "/x", "", headers, b""), "lambda")
    assert caught.value.kind is Failure.UNKNOWN_KEY
    headers["x-amz-security-token"] = "token-1"  # right token, but the signature covered token-2
    with pytest.raises(AuthFailure):
        Verifier(lookup, ManualClock(NOW).time).verify(Request("GET", "/x", "", headers, b""), "lambda")


@settings(max_examples=300, deadline=None)
@given(
    authorization=st.one_of(
        st.text(max_size=300),
        st.builds(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}".format,
            st.sampled_from([KEY, "", "AKIA?"]),
            st.from_regex(r"\d{8}", fullmatch=True),
            st.sampled_from(["us-east-1", "", "x"]),
            st.sampled_from(["lambda", "sqs"]),
            st.sampled_from(["host", "host;x-amz-date", "", ";;"]),
            st.text(max_size=64),
        ),
    ),
    amz_date=st.one_of(st.text(max_size=30), st.from_regex(r"\d{8}T\d{6}Z", fullmatch=True)),
    query=st.text(max_size=100),
    path=st.text(max_size=60),
)
def test_fuzzed_requests_only_ever_fail_as_auth_failures(
    authorization: str, amz_date: str, query: str, path: str
) -> None:
    """Whatever arrives, the verifier answers an AuthFailure (a 4xx), never another exception (a 500)."""
    request = Request(
        "GET", "/" + path, query, {"authorization": authorization, "x-amz-date": amz_date, "host": "h"}, b""
    )
    with pytest.raises(AuthFailure):
        _verifier(ManualClock(NOW)).verify(request, "lambda")
