"""Objects through boto3 against a real Lamina: writes, reads, conditions, ranges, checksums, copies, deletes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.s3.test_buckets import error_of
from tests.server import LaminaProcess


def test_put_get_head_with_headers_and_metadata(s3: Any, bucket: str) -> None:
    body = b"a picture, or nearly"
    put = s3.put_object(
        Bucket=bucket,
        Key="images/cat.jpg",
        Body=body,
        ContentType="image/jpeg",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="cat.jpg"',
        CacheControl="max-age=60",
        Metadata={"camera": "x100", "Mixed-Case": "v"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="images/cat.jpg")
    assert got["Body"].read() == body
    assert got["ContentType"] == "image/jpeg"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == 'attachment; filename="cat.jpg"'
    assert got["CacheControl"] == "max-age=60"
    assert got["Metadata"] == {"camera": "x100", "mixed-case": "v"}
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(body)
    assert got["AcceptRanges"] == "bytes"
    head = s3.head_object(Bucket=bucket, Key="images/cat.jpg")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]
    assert head["LastModified"] == got["LastModified"]
    default = s3.put_object(Bucket=bucket, Key="plain", Body=b"")
    assert default["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] == "binary/octet-stream"
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b""


def test_missing_key_and_bucket(s3: Any, bucket: str) -> None:
    code, message, status, error = error_of(s3.get_object, Bucket=bucket, Key="nope")
    assert (code, message, status, error["Key"]) == ("NoSuchKey", "The specified key does not exist.", 404, "nope")
    assert error_of(s3.head_object, Bucket=bucket, Key="nope")[:3:2] == ("404", 404)
    code, _, status, _ = error_of(s3.get_object, Bucket="no-such-bucket-here", Key="k")
    assert (code, status) == ("NoSuchBucket", 404)
    code, _, status, _ = error_of(s3.put_object, Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert (code, status) == ("NoSuchBucket", 404)


def test_ranges(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["Body"].read() == body[10:20]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == body[1000:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-5000")["Body"].read() == body[1000:]
    code, message, status, error = error_of(s3.get_object, Bucket=bucket, Key="r", Range="bytes=5000-6000")
    assert (code, message, status) == ("InvalidRange", "The requested range is not satisfiable", 416)
    assert error["ActualObjectSize"] == str(len(body))


def test_conditional_reads(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    code, message, status, error = error_of(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0000"')
    assert (code, status, error["Condition"]) == ("PreconditionFailed", 412, "If-Match")
    assert message == "At least one of the pre-conditions you specified did not hold"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    later = modified + datetime.timedelta(seconds=10)
    earlier = modified - datetime.timedelta(seconds=10)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=later)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"cond"
    assert error_of(s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)[2] == 412
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=later)["Body"].read() == b"cond"
    # conditional writes: If-None-Match: * creates only
    code, _, status, _ = error_of(s3.put_object, Bucket=bucket, Key="c", Body=b"again", IfNoneMatch="*")
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"cond"


def test_content_md5_mismatch_stores_nothing(s3: Any, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code, message, status, _ = error_of(s3.put_object, Bucket=bucket, Key="m", Body=b"data", ContentMD5=wrong)
    assert (code, status) == ("BadDigest", 400)
    assert message == "The Content-MD5 you specified did not match what we received."
    assert error_of(s3.head_object, Bucket=bucket, Key="m")[2] == 404
    right = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    assert s3.put_object(Bucket=bucket, Key="m", Body=b"data", ContentMD5=right)["ETag"]
    code, _, status, _ = error_of(s3.put_object, Bucket=bucket, Key="m", Body=b"data", ContentMD5="bm9wZQ==")
    assert (code, status) == ("InvalidDigest", 400)


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256", "CRC32C", "CRC64NVME"])
def test_checksums(s3: Any, bucket: str, algorithm: str) -> None:
    body = b"checked bytes " * 100
    digests = {
        "CRC32": zlib.crc32(body).to_bytes(4, "big"),
        "SHA1": hashlib.sha1(body).digest(),
        "SHA256": hashlib.sha256(body).digest(),
    }
    if algorithm in digests:
        value = base64.b64encode(digests[algorithm]).decode()
        put = s3.put_object(Bucket=bucket, Key="sum", Body=body, **{f"Checksum{algorithm}": value})
        assert put[f"Checksum{algorithm}"] == value
        head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
        assert head[f"Checksum{algorithm}"] == value
    wrong = base64.b64encode(b"\0" * {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}[algorithm])
    code, _, status, _ = error_of(
        s3.put_object, Bucket=bucket, Key="bad-sum", Body=body, **{f"Checksum{algorithm}": wrong.decode()}
    )
    assert (code, status) == ("BadDigest", 400)
    assert error_of(s3.head_object, Bucket=bucket, Key="bad-sum")[2] == 404


def test_known_crc32c_and_crc64nvme_values() -> None:
    from lamina.services.s3.checksums import hasher

    for algorithm, expected in (("CRC32C", 0xE3069283), ("CRC64NVME", 0xAE8B14860A799888)):
        h = hasher(algorithm)
        h.update(b"123456789")
        assert int.from_bytes(h.digest(), "big") == expected


def test_default_checksum_is_crc32(s3: Any, bucket: str) -> None:
    body = b"x" * 1000
    put = s3.put_object(Bucket=bucket, Key="default", Body=body)
    assert put["ChecksumCRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def _chunked(body: bytes, size: int, trailer: tuple[str, str] | None) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(piece), b"0" * 64, piece)
    out += b"0;chunk-signature=" + b"0" * 64 + b"\r\n"
    if trailer:
        out += f"{trailer[0]}:{trailer[1]}\r\n".encode()
    return out + b"\r\n"


def _raw_put(lamina: LaminaProcess, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port, timeout=30)
    auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    conn.request("PUT", path, body=body, headers={"Authorization": auth, **headers})
    response = conn.getresponse()
    result = (response.status, response.read())
    conn.close()
    return result


def test_aws_chunked_with_trailing_checksum(lamina: LaminaProcess, s3: Any, bucket: str) -> None:
    body = b"streamed in chunks " * 5000
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    status, _ = _raw_put(lamina, f"/{bucket}/chunked", _chunked(body, 8192, ("x-amz-checksum-crc32", crc)), headers)
    assert status == 200
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == crc
    assert "ContentEncoding" not in got  # aws-chunked was the transfer, not the object's encoding
    bad = base64.b64encode(b"\0\0\0\0").decode()
    chunks = _chunked(body, 8192, ("x-amz-checksum-crc32", bad))
    status, answer = _raw_put(lamina, f"/{bucket}/chunked-bad", chunks, headers)
    assert status == 400 and b"<Code>BadDigest</Code>" in answer
    assert error_of(s3.head_object, Bucket=bucket, Key="chunked-bad")[2] == 404


def test_key_too_long(s3: Any, bucket: str) -> None:
    code, message, status, error = error_of(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert (code, message, status) == ("KeyTooLongError", "Your key is too long", 400)
    assert error["MaxSizeAllowed"] == "1024"
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")  # exactly the limit is fine


def test_copy_object(s3: Any, make_bucket: Any) -> None:
    source, target = make_bucket(), make_bucket()
    s3.put_object(Bucket=source, Key="src", Body=b"copied", ContentType="text/plain", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=target, Key="dst", CopySource={"Bucket": source, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copied").hexdigest()}"'
    got = s3.get_object(Bucket=target, Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"copied", "text/plain", {"a": "1"})
    s3.copy_object(
        Bucket=target,
        Key="dst2",
        CopySource=f"{source}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/x-new",
    )
    got = s3.head_object(Bucket=target, Key="dst2")
    assert (got["Metadata"], got["ContentType"]) == ({"b": "2"}, "application/x-new")
    code, _, status, _ = error_of(s3.copy_object, Bucket=source, Key="src", CopySource=f"{source}/src")
    assert (code, status) == ("InvalidRequest", 400)
    code, _, status, _ = error_of(s3.copy_object, Bucket=target, Key="x", CopySource=f"{source}/missing")
    assert (code, status) == ("NoSuchKey", 404)
    # the source's deletion leaves the copy whole (the bytes are shared, not moved)
    s3.delete_object(Bucket=source, Key="src")
    assert s3.get_object(Bucket=target, Key="dst")["Body"].read() == b"copied"


def test_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "zz"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.delete_object(Bucket=bucket, Key="never")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_survives_kill_9(fresh_lamina: Any) -> None:
    server = fresh_lamina()
    client = server.client("s3")
    client.create_bucket(Bucket="durable")
    client.put_object(Bucket="durable", Key="k", Body=b"kept")
    server.kill()
    again = fresh_lamina()
    client = again.client("s3")
    assert client.get_object(Bucket="durable", Key="k")["Body"].read() == b"kept"
