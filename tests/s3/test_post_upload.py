"""S3 POST uploads as a browser sends them: boto3's generate_presigned_post gives the URL and fields, the form
(multipart/form-data, file last) goes to a real Lamina over HTTP. The policy's conditions, its expiry,
success_action_status/redirect, AWS's errors (nothing stored when refused) and the s3:ObjectCreated:Post
notification."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any
from xml.etree import ElementTree

import pytest
import urllib3

from tests.s3.test_notifications import nothing_more, receive
from tests.server import LaminaProcess

_HTTP = urllib3.PoolManager()


def _post(url: str, fields: dict[str, str], content: bytes, filename: str = "photo.jpg") -> urllib3.BaseHTTPResponse:
    """The form as a browser posts it: the fields in order, then the file."""
    parts: list[tuple[str, Any]] = list(fields.items())
    parts.append(("file", (filename, content, "image/jpeg")))
    body, content_type = urllib3.encode_multipart_formdata(parts)
    return _HTTP.request("POST", url, body=body, headers={"Content-Type": content_type}, redirect=False)


def _error(response: urllib3.BaseHTTPResponse) -> tuple[int, str, str, dict[str, str]]:
    root = ElementTree.fromstring(response.data)
    fields = {child.tag: child.text or "" for child in root}
    return response.status, fields["Code"], fields["Message"], fields


def _missing(s3: Any, bucket: str, key: str) -> bool:
    return "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)


def test_presigned_post_uploads(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(Bucket=bucket, Key="uploads/${filename}")
    response = _post(post["url"], post["fields"], b"picture bytes", filename="cat.jpg")
    assert response.status == 204 and response.data == b""
    assert response.headers["ETag"] == f'"{hashlib.md5(b"picture bytes").hexdigest()}"'
    assert response.headers["Location"].endswith(f"/{bucket}/uploads/cat.jpg")
    got = s3.get_object(Bucket=bucket, Key="uploads/cat.jpg")
    assert got["Body"].read() == b"picture bytes"
    assert got["ContentType"] == "binary/octet-stream"
    tagging = "<Tagging><TagSet><Tag><Key>kind</Key><Value>photo</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(Bucket=bucket, Key="tagged.jpg", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}])  # fmt: skip
    assert _post(post["url"], post["fields"], b"t").status == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged.jpg")["TagSet"] == [{"Key": "kind", "Value": "photo"}]


def test_policy_conditions(s3: Any, bucket: str) -> None:
    conditions = [
        ["content-length-range", 2, 10],
        ["starts-with", "$Content-Type", "image/"],
        {"success_action_status": "201"},
        ["starts-with", "$x-amz-meta-owner", ""],
    ]
    fields = {"Content-Type": "image/png", "success_action_status": "201", "x-amz-meta-owner": "ann"}
    post = s3.generate_presigned_post(Bucket=bucket, Key="a.png", Fields=fields, Conditions=conditions)
    response = _post(post["url"], post["fields"], b"12345")
    assert response.status == 201
    root = ElementTree.fromstring(response.data)
    assert root.tag == "PostResponse"
    answer = {child.tag: child.text for child in root}
    assert (answer["Bucket"], answer["Key"], answer["ETag"]) == (
        bucket,
        "a.png",
        f'"{hashlib.md5(b"12345").hexdigest()}"',
    )
    head = s3.head_object(Bucket=bucket, Key="a.png")
    assert (head["ContentType"], head["Metadata"]) == ("image/png", {"owner": "ann"})

    too_big = _post(post["url"], post["fields"], b"x" * 11)
    status, code, message, extra = _error(too_big)
    assert (status, code, message) == (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    assert extra["MaxSizeAllowed"] == "10"
    status, code, message, extra = _error(_post(post["url"], post["fields"], b"x"))
    assert (status, code, message) == (
        400,
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
    )
    assert (extra["ProposedSize"], extra["MinSizeAllowed"]) == ("1", "2")
    assert s3.get_object(Bucket=bucket, Key="a.png")["Body"].read() == b"12345"  # neither replaced it

    wrong_type = {**post["fields"], "Content-Type": "text/plain"}
    assert _error(_post(post["url"], wrong_type, b"12345"))[:3] == (
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]',
    )
    other_key = {**post["fields"], "key": "b.png"}
    assert _error(_post(post["url"], other_key, b"12345"))[:3] == (
        403, "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "a.png"]',
    )  # fmt: skip
    extra_field = {**post["fields"], "Cache-Control": "no-cache"}
    assert _error(_post(post["url"], extra_field, b"12345"))[:3] == (
        403, "AccessDenied", "Invalid according to Policy: Extra input fields: cache-control",
    )  # fmt: skip
    ignored = {**post["fields"], "x-ignore-note": "anything"}
    assert _post(post["url"], ignored, b"12345").status == 201
    assert _missing(s3, bucket, "b.png")


def test_expired_policy_and_bad_forms(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(Bucket=bucket, Key="late.txt", ExpiresIn=-5)  # expired 5 s ago
    assert _error(_post(post["url"], post["fields"], b"x"))[:3] == (
        403, "AccessDenied", "Invalid according to Policy: Policy expired.",
    )  # fmt: skip
    assert _missing(s3, bucket, "late.txt")

    post = s3.generate_presigned_post(Bucket=bucket, Key="k.txt")
    no_key = {k: v for k, v in post["fields"].items() if k != "key"}
    status, code, message, extra = _error(_post(post["url"], no_key, b"x"))
    assert (status, code, extra["ArgumentName"]) == (400, "InvalidArgument", "key")
    assert message == (
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
    )
    body, content_type = urllib3.encode_multipart_formdata(list(post["fields"].items()))
    no_file = _HTTP.request("POST", post["url"], body=body, headers={"Content-Type": content_type})
    assert _error(no_file)[:3] == (400, "InvalidArgument", "POST requires exactly one file upload per request.")
    anonymous = _post(post["url"], {"key": "k.txt"}, b"x")
    assert _error(anonymous)[:2] == (403, "AccessDenied")
    bad_policy = {**post["fields"], "policy": base64.b64encode(b"{not json").decode()}
    assert _error(_post(post["url"], bad_policy, b"x"))[:3] == (
        400,
        "InvalidPolicyDocument",
        "Invalid Policy: Invalid JSON.",
    )
    no_bucket = s3.generate_presigned_post(Bucket="no-such-bucket-anywhere", Key="k")
    assert _error(_post(no_bucket["url"], no_bucket["fields"], b"x"))[:2] == (404, "NoSuchBucket")
    broken = _HTTP.request("POST", post["url"], body=b"--x\r\nnot a form",
                           headers={"Content-Type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert _error(broken)[:2] == (400, "MalformedPOSTRequest")
    assert _missing(s3, bucket, "k.txt")
    s3.head_bucket(Bucket=bucket)  # the server keeps serving


def test_redirect_and_status(s3: Any, bucket: str) -> None:
    redirect = "http://example.com/done?from=form"
    post = s3.generate_presigned_post(
        Bucket=bucket, Key="r.txt", Fields={"success_action_redirect": redirect},
        Conditions=[{"success_action_redirect": redirect}],
    )  # fmt: skip
    response = _post(post["url"], post["fields"], b"data")
    assert response.status == 303
    etag = f'"{hashlib.md5(b"data").hexdigest()}"'
    assert response.headers["Location"] == (
        f"{redirect}&bucket={bucket}&key=r.txt&etag=" + urllib3.util.parse_url(etag).url.replace('"', "%22")
    )
    post = s3.generate_presigned_post(
        Bucket=bucket, Key="s.txt", Fields={"success_action_status": "200"},
        Conditions=[{"success_action_status": "200"}],
    )  # fmt: skip
    response = _post(post["url"], post["fields"], b"data")
    assert (response.status, response.data) == (200, b"")


def test_large_post_streams_to_disk(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * (24 * 1024 * 4)  # 24 MB
    post = s3.generate_presigned_post(Bucket=bucket, Key="big.bin")
    assert _post(post["url"], post["fields"], data).status == 204
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert (head["ContentLength"], head["ETag"]) == (len(data), f'"{hashlib.md5(data).hexdigest()}"')


@pytest.fixture
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


def test_post_fires_object_created_post(s3: Any, sqs: Any, bucket: str) -> None:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Post", "s3:ObjectAcl:Put"]}]
            },
        )
        assert receive(sqs, url, 1)[0]["Event"] == "s3:TestEvent"
        s3.put_object(Bucket=bucket, Key="put.txt", Body=b"p")  # a Put: not this rule's event
        post = s3.generate_presigned_post(Bucket=bucket, Key="form.txt")
        assert _post(post["url"], post["fields"], b"f").status == 204
        record = receive(sqs, url, 1)[0]["Records"][0]
        assert (record["eventName"], record["s3"]["object"]["key"], record["s3"]["object"]["size"]) == (
            "ObjectCreated:Post", "form.txt", 1,
        )  # fmt: skip
        nothing_more(sqs, url)
        s3.put_object_acl(Bucket=bucket, Key="form.txt", ACL="private")
        record = receive(sqs, url, 1)[0]["Records"][0]
        assert (record["eventName"], record["s3"]["object"]["key"]) == ("ObjectAcl:Put", "form.txt")
    finally:
        sqs.delete_queue(QueueUrl=url)
    json.dumps(record)
