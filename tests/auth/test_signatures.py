"""--auth sigv4 end to end through boto3: right key, wrong secret, unknown key, unsigned, stale date, per
protocol family (rest-json Lambda, json DynamoDB/Logs, json-with-query-codes SQS, query SNS/IAM/STS)."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import ROOT_KEY, ROOT_SECRET, Client

# service → (a read-only call, json-family codes?)
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "lambda": ("list_functions", {}),
    "dynamodb": ("list_tables", {}),
    "logs": ("describe_log_groups", {}),
    "sqs": ("list_queues", {}),
    "sns": ("list_topics", {}),
    "iam": ("list_roles", {}),
    "sts": ("get_caller_identity", {}),
    "events": ("list_rules", {}),
}
QUERY = {"sns", "iam", "sts"}  # query protocol: the older codes
LEGACY = {"sqs"}  # json protocol reporting query codes (x-amzn-query-error), which botocore shows

MISMATCH = "The request signature we calculated does not match the signature you provided."


def _codes(service: str) -> dict[str, str]:
    if service in QUERY or service in LEGACY:
        return {
            "signature": "SignatureDoesNotMatch",
            "unknown": "InvalidClientTokenId",
            "missing": "MissingAuthenticationToken",
        }
    return {
        "signature": "InvalidSignatureException",
        "unknown": "UnrecognizedClientException",
        "missing": "MissingAuthenticationTokenException",
    }


def _call(client: Any, service: str) -> Any:
    name, args = CALLS[service]
    return getattr(client, name)(**args)


def _refused(client: Any, service: str) -> ClientError:
    with pytest.raises(ClientError) as caught:
        _call(client, service)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, caught.value.response
    return caught.value


@pytest.mark.parametrize("service", sorted(CALLS))
def test_root_key_is_accepted(client: Client, service: str) -> None:
    _call(client(service), service)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_wrong_secret_is_a_signature_mismatch(client: Client, service: str) -> None:
    error = _refused(client(service, ROOT_KEY, "not-the-secret"), service)
    assert error.response["Error"]["Code"] == _codes(service)["signature"]
    assert error.response["Error"]["Message"].startswith(MISMATCH)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unknown_key_is_unrecognized(client: Client, service: str) -> None:
    error = _refused(client(service, "AKIANOBODYKNOWS00000", ROOT_SECRET), service)
    assert error.response["Error"]["Code"] == _codes(service)["unknown"]
    assert error.response["Error"]["Message"] == "The security token included in the request is invalid."


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unsigned_is_missing_authentication(client: Client, service: str) -> None:
    error = _refused(client(service, None), service)
    assert error.response["Error"]["Code"] == _codes(service)["missing"]


@pytest.mark.parametrize("service", ["lambda", "sqs", "sns"])
def test_stale_signature_is_expired(client: Client, service: str) -> None:
    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    with mock.patch("botocore.auth.datetime.datetime") as fake:
        fake.now.return_value = stale
        fake.utcnow.return_value = stale.replace(tzinfo=None)
        error = _refused(client(service), service)
    assert error.response["Error"]["Code"] == _codes(service)["signature"]
    assert error.response["Error"]["Message"].startswith("Signature expired: ")
    assert "- 15 min.)" in error.response["Error"]["Message"]


def test_refused_requests_change_nothing(client: Client) -> None:
    bad = client("sqs", ROOT_KEY, "wrong")
    with pytest.raises(ClientError):
        bad.create_queue(QueueName="never-made")
    assert "QueueUrls" not in client("sqs").list_queues(QueueNamePrefix="never-made")


def test_session_credentials_are_verified_with_their_token(client: Client) -> None:
    creds = client("sts").get_session_token()["Credentials"]
    key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    assert key.startswith("ASIA")
    _call(client("lambda", key, secret, token), "lambda")
    error = _refused(client("lambda", key, secret, None), "lambda")  # the token is part of the credentials
    assert error.response["Error"]["Code"] == "UnrecognizedClientException"
    error = _refused(client("lambda", key, "wrong", token), "lambda")
    assert error.response["Error"]["Code"] == "InvalidSignatureException"


def test_presigned_url(client: Client, secured: Any) -> None:
    import urllib.error
    import urllib.request

    sts = client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url) as answer:
        assert b"arn:aws:iam::000000000000:root" in answer.read()
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered)
    assert caught.value.code == 403 and b"SignatureDoesNotMatch" in caught.value.read()


def test_invoke_fast_path_is_verified_too(client: Client) -> None:
    from tests.conftest import make_zip
    from tests.server import ROLE

    lam = client("lambda")
    lam.create_function(
        FunctionName="signed-invoke",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip()},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="signed-invoke")
    for _ in range(3):  # warm: the later ones go through the server's invoke shortcut
        assert lam.invoke(FunctionName="signed-invoke", Payload=b'{"n": 1}')["Payload"].read() == b'{"n": 1}'
    for bad in (client("lambda", ROOT_KEY, "wrong"), client("lambda", None)):
        with pytest.raises(ClientError) as caught:
            bad.invoke(FunctionName="signed-invoke", Payload=b"{}")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    lam.delete_function(FunctionName="signed-invoke")


def test_expired_presigned_url(client: Client) -> None:
    import urllib.error
    import urllib.request

    signed_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=120)
    with mock.patch("botocore.auth.datetime.datetime") as fake:
        fake.now.return_value = signed_at
        fake.utcnow.return_value = signed_at.replace(tzinfo=None)
        url = client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url)
    body = caught.value.read()
    assert caught.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert b"Signature expired: " in body


@pytest.mark.parametrize(
    ("authorization", "code", "status"),
    [
        ("AWS4-HMAC-SHA256 Credential=abc", "IncompleteSignatureException", 403),
        (
            "AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, "
            "Signature=00",
            "IncompleteSignatureException",
            403,
        ),
        ("Bearer something", "MissingAuthenticationTokenException", 403),
        (
            "AWS4-HMAC-SHA256 Credential=AKIANOBODY/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, "
            "Signature=00",
            "UnrecognizedClientException",
            403,
        ),
    ],
)
def test_malformed_authorization_headers(secured: Any, authorization: str, code: str, status: int) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        secured.url + "/2015-03-31/functions/",
        headers={"Authorization": authorization, "X-Amz-Date": "20240101T000000Z"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == status
    assert caught.value.headers["x-amzn-ErrorType"] == code
