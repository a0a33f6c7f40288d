"""Multipart uploads through boto3 against a real Lamina: parts, copies of parts, listings, completion's ETag
(MD5 of the parts' MD5s, `-N`) and the errors AWS gives for wrong, unordered and too-small parts."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.s3.test_buckets import error_of

MIB = 1024 * 1024


def multipart_etag(*parts: bytes) -> str:
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"'


def test_upload_complete_and_read_back(s3: Any, bucket: str) -> None:
    first, second = os.urandom(5 * MIB), b"the tail, smaller than 5 MiB"
    created = s3.create_multipart_upload(Bucket=bucket, Key="big/object.bin", ContentType="application/x-thing",
                                         Metadata={"origin": "test"})  # fmt: skip
    upload_id = created["UploadId"]
    assert (created["Bucket"], created["Key"]) == (bucket, "big/object.bin")
    one = s3.upload_part(Bucket=bucket, Key="big/object.bin", UploadId=upload_id, PartNumber=1, Body=first)
    two = s3.upload_part(Bucket=bucket, Key="big/object.bin", UploadId=upload_id, PartNumber=2, Body=second)
    assert one["ETag"] == f'"{hashlib.md5(first).hexdigest()}"'
    assert two["ETag"] == f'"{hashlib.md5(second).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="big/object.bin", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (1, one["ETag"], len(first)),
        (2, two["ETag"], len(second)),
    ]
    assert listed["IsTruncated"] is False
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/object.bin", upload_id)]
    # the object does not exist until the upload completes
    assert error_of(s3.head_object, Bucket=bucket, Key="big/object.bin")[2] == 404
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big/object.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["ETag"]}]},
    )
    assert done["ETag"] == multipart_etag(first, second)
    assert (done["Bucket"], done["Key"]) == (bucket, "big/object.bin")
    got = s3.get_object(Bucket=bucket, Key="big/object.bin")
    assert got["Body"].read() == first + second
    assert got["ETag"] == done["ETag"]
    assert got["ContentType"] == "application/x-thing"
    assert got["Metadata"] == {"origin": "test"}
    assert s3.head_object(Bucket=bucket, Key="big/object.bin", PartNumber=1)["ContentLength"] > 0
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    code, _, status, _ = error_of(s3.list_parts, Bucket=bucket, Key="big/object.bin", UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)


def test_a_part_uploaded_again_replaces_the_first(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"first try")
    again = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"second try")
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, again["ETag"])]
    only = {"Parts": [{"PartNumber": 1, "ETag": again["ETag"]}]}
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=only)
    assert done["ETag"] == multipart_etag(b"second try")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second try"


def test_upload_part_copy_with_a_range(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    copied = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=upload_id, PartNumber=1,
                                 CopySource={"Bucket": bucket, "Key": "source"},
                                 CopySourceRange=f"bytes=0-{5 * MIB - 1}")  # fmt: skip
    assert copied["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source[: 5 * MIB]).hexdigest()}"'
    rest = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=upload_id, PartNumber=2,
                               CopySource=f"{bucket}/source")  # fmt: skip
    parts = [
        {"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": rest["CopyPartResult"]["ETag"]},
    ]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="joined", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})  # fmt: skip
    assert done["ETag"] == multipart_etag(source[: 5 * MIB], source)
    assert s3.get_object(Bucket=bucket, Key="joined")["Body"].read() == source[: 5 * MIB] + source
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="bad-range")["UploadId"]
    code, message, status, _ = error_of(s3.upload_part_copy, Bucket=bucket, Key="bad-range", UploadId=upload_id,
                                        PartNumber=1, CopySource=f"{bucket}/source",
                                        CopySourceRange=f"bytes=0-{7 * MIB}")  # fmt: skip
    assert (code, message, status) == ("InvalidRange", "The requested range is not satisfiable", 416)


def test_abort_removes_the_upload(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=upload_id, PartNumber=1, Body=b"x" * 100)
    assert (
        s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    code, message, status, error = error_of(s3.upload_part, Bucket=bucket, Key="gone", UploadId=upload_id,
                                            PartNumber=2, Body=b"late")  # fmt: skip
    assert (code, status, error["UploadId"]) == ("NoSuchUpload", 404, upload_id)
    assert message.startswith("The specified upload does not exist.")
    code, _, status, _ = error_of(s3.abort_multipart_upload, Bucket=bucket, Key="gone", UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)
    code, _, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="gone", UploadId=upload_id,
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})  # fmt: skip
    assert (code, status) == ("NoSuchUpload", 404)


def test_completion_errors_leave_the_upload_as_it_was(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    small = [s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"%d" % n * 10)["ETag"]
             for n in (1, 2)]  # fmt: skip

    def complete(parts: list[dict[str, Any]]) -> tuple[str, str, int, dict[str, Any]]:
        return error_of(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id,
                        MultipartUpload={"Parts": parts})  # fmt: skip

    code, message, status, error = complete([{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}])
    assert (code, status) == ("InvalidPart", 400)
    assert message == (
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the "
        "specified entity tag may not match the part's entity tag."
    )
    assert error["PartNumber"] == "1"
    code, _, status, _ = complete([{"PartNumber": 3, "ETag": small[0]}])
    assert (code, status) == ("InvalidPart", 400)
    code, message, status, _ = complete([{"PartNumber": 2, "ETag": small[1]}, {"PartNumber": 1, "ETag": small[0]}])
    assert (code, status) == ("InvalidPartOrder", 400)
    assert message == "The list of parts was not in ascending order. Parts must be ordered by part number."
    code, message, status, error = complete([{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}])
    assert (code, message, status) == (
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
    )
    assert (error["ProposedSize"], error["MinSizeAllowed"], error["PartNumber"]) == ("10", str(5 * MIB), "1")
    assert error_of(s3.head_object, Bucket=bucket, Key="k")[2] == 404
    # nothing was consumed: one small part alone is a valid (last) part
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small[0]}]})  # fmt: skip
    assert done["ETag"] == multipart_etag(b"1" * 10)


def test_part_numbers_and_missing_buckets(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    code, message, status, error = error_of(s3.upload_part, Bucket=bucket, Key="k", UploadId=upload_id,
                                            PartNumber=10001, Body=b"x")  # fmt: skip
    assert (code, status) == ("InvalidArgument", 400)
    assert message == "Part number must be an integer between 1 and 10000, inclusive"
    assert error["ArgumentName"] == "partNumber"
    code, _, status, _ = error_of(s3.create_multipart_upload, Bucket="no-such-bucket-mp", Key="k")
    assert (code, status) == ("NoSuchBucket", 404)
    code, _, status, _ = error_of(s3.list_multipart_uploads, Bucket="no-such-bucket-mp")
    assert (code, status) == ("NoSuchBucket", 404)


def test_list_multipart_uploads_pages_and_prefix(s3: Any, bucket: str) -> None:
    ids = {key: s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in ("a/1", "a/2", "b/1")}
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert page["IsTruncated"] is True
    assert [u["Key"] for u in page["Uploads"]] == ["a/1", "a/2"]
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("a/2", ids["a/2"])
    rest = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])  # fmt: skip
    assert [u["Key"] for u in rest["Uploads"]] == ["b/1"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")["Uploads"]] == ["a/1", "a/2"]


def test_list_parts_pages(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"p")
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"]) == (True, 2)
    rest = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]
    assert rest["IsTruncated"] is False


def test_a_bucket_with_an_upload_is_not_empty(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    code, _, status, _ = error_of(s3.delete_bucket, Bucket=bucket)
    assert (code, status) == ("BucketNotEmpty", 409)
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)


def test_every_answer_names_its_request(s3: Any, bucket: str) -> None:
    """x-amz-request-id and x-amz-id-2 on successes and errors; an error's document repeats them."""
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ResponseMetadata"]
    assert len(put["HTTPHeaders"]["x-amz-request-id"]) == 16
    assert put["HTTPHeaders"]["x-amz-id-2"]
    assert put["RequestId"] == put["HTTPHeaders"]["x-amz-request-id"]
    assert put["HostId"] == put["HTTPHeaders"]["x-amz-id-2"]
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="missing")
    meta = raised.value.response["ResponseMetadata"]
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amz-request-id"]
    assert meta["HostId"] == meta["HTTPHeaders"]["x-amz-id-2"]
    head = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    assert head["x-amz-request-id"] != put["HTTPHeaders"]["x-amz-request-id"]
