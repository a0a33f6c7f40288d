"""S3 under `--auth sigv4`: signed header requests (botocore's aws-chunked uploads too) and presigned URLs pass;
a wrong secret, an unknown key and no signature get S3's own XML errors, and a refused PUT stores nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import ROOT_KEY, Client


def _code(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"]


def test_s3_is_verified(client: Client) -> None:
    root = client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"hello" * 1000)
    assert root.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello" * 1000
    wrong = client("s3", ROOT_KEY, "not-the-secret")
    assert _code(lambda: wrong.put_object(Bucket=bucket, Key="other", Body=b"x")) == (403, "SignatureDoesNotMatch")
    assert _code(lambda: client("s3", "AKIAUNKNOWN000000000").list_buckets()) == (403, "InvalidAccessKeyId")
    assert _code(lambda: client("s3", None).get_object(Bucket=bucket, Key="k"))[0] == 403
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]  # nothing else stored
    url = root.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"hello" * 1000
    tampered = url.replace("Key=", "Key=x") if "Key=" in url else url + "x"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered.replace("/k?", "/other?"))
    assert refused.value.code == 403
    root.delete_object(Bucket=bucket, Key="k")
    root.delete_bucket(Bucket=bucket)


def test_post_upload_policy_signature_is_verified(client: Client) -> None:
    """A POST form's policy must be signed with a known key's secret (SigV4); a forged one stores nothing."""
    import urllib3

    root = client("s3")
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    root.create_bucket(Bucket=bucket)
    http = urllib3.PoolManager()

    def post(fields: dict[str, str]) -> urllib3.BaseHTTPResponse:
        body, content_type = urllib3.encode_multipart_formdata([*fields.items(), ("file", ("f", b"data"))])
        return http.request("POST", f"{client('s3').meta.endpoint_url}/{bucket}", body=body,
                            headers={"Content-Type": content_type})  # fmt: skip

    signed = root.generate_presigned_post(Bucket=bucket, Key="ok.txt")["fields"]
    assert post(signed).status == 204
    forged = client("s3", ROOT_KEY, "not-the-secret").generate_presigned_post(Bucket=bucket, Key="no.txt")["fields"]
    refused = post(forged)
    assert refused.status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in refused.data
    unknown = client("s3", "AKIAUNKNOWN000000000").generate_presigned_post(Bucket=bucket, Key="no.txt")["fields"]
    assert post(unknown).status == 403
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["ok.txt"]
    root.delete_object(Bucket=bucket, Key="ok.txt")
    root.delete_bucket(Bucket=bucket)
