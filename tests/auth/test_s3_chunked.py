"""S3's signed aws-chunked uploads under `--auth sigv4`: the request is signed by botocore's SigV4 signer with
`X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` (the seed), the body is built by hand as the
Java/Go SDKs build it, chunk by chunk. Good chains are stored; a bad chunk, a missing chunk signature, altered
data or a bad trailer signature answer 403 SignatureDoesNotMatch and leave the key as it was. botocore's own
STREAMING-UNSIGNED-PAYLOAD-TRAILER upload (forced over http) passes too. AWS's documented example chain is
checked offline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.auth.chunk_signatures import ChunkChain, ChunkSignatureMismatch
from lamina.auth.sigv4 import Verifier
from lamina.services.s3.chunked import ChunkedDecoder
from lamina.services.s3.faults import S3Error
from tests.auth.conftest import ROOT_KEY, ROOT_SECRET, Client
from tests.server import LaminaProcess

_EMPTY = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _signed_put(
    url: str, payload: bytes, chunk: int, trailer: bool, bad: str = "", declared: int | None = None
) -> tuple[int, bytes]:
    """PUT `payload` to `url` as a signed aws-chunked body in `chunk`-byte chunks; `bad` spoils one part;
    `declared` is the (signed) X-Amz-Decoded-Content-Length when it is not the payload's length."""
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    chunks = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] + [b""]
    headers = {
        "X-Amz-Content-SHA256": mode,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(payload) if declared is None else declared),
    }
    if trailer:
        headers["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    request = AWSRequest(method="PUT", url=url, headers=headers)
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "s3", "us-east-1").add_auth(request)
    amz_date = request.headers["X-Amz-Date"]
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = Verifier(lambda _: None).signing_key(ROOT_SECRET, amz_date[:8], "us-east-1", "s3")
    wire = bytearray()
    previous = seed
    for index, data in enumerate(chunks):
        signature = _hmac(
            key,
            f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{_EMPTY}\n{hashlib.sha256(data).hexdigest()}",
        )
        previous = signature
        if bad == "signature" and index == 1:
            signature = "0" * 64
        sent = data
        if bad == "data" and index == 1:
            sent = b"X" + data[1:]
        if bad == "unsigned" and index == 0:
            wire += f"{len(sent):x}\r\n".encode()
        else:
            wire += f"{len(sent):x};chunk-signature={signature}\r\n".encode()
        wire += sent + b"\r\n" if sent else b""
    if trailer:
        checksum = base64.b64encode((zlib.crc32(payload) & 0xFFFFFFFF).to_bytes(4, "big")).decode()
        canonical = f"x-amz-checksum-crc32:{checksum}\n"
        hashed = hashlib.sha256(canonical.encode()).hexdigest()
        signature = _hmac(key, f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{hashed}")
        if bad == "trailer":
            signature = "f" * 64
        wire += canonical.replace("\n", "\r\n").encode()
        wire += f"x-amz-trailer-signature:{signature}\r\n".encode()
    wire += b"\r\n"
    sent_headers = dict(request.headers.items())
    answer = urllib.request.Request(url, data=bytes(wire), headers=sent_headers, method="PUT")
    try:
        with urllib.request.urlopen(answer) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def bucket(client: Client) -> Iterator[str]:
    s3 = client("s3")
    name = f"chunks-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    yield name
    for listed in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=listed["Key"])
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("trailer", [False, True], ids=["payload", "payload-trailer"])
def test_a_signed_chain_is_stored(secured: LaminaProcess, client: Client, bucket: str, trailer: bool) -> None:
    payload = bytes(range(256)) * 700  # 179,200 bytes: three 64 KiB chunks
    status, body = _signed_put(f"{secured.url}/{bucket}/obj", payload, 65536, trailer)
    assert status == 200, body
    got = client("s3").get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    if trailer:
        assert got["ChecksumCRC32"] == base64.b64encode((zlib.crc32(payload) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("bad", ["signature", "data", "unsigned", "trailer"])
def test_a_bad_chunk_is_refused_and_nothing_is_stored(
    secured: LaminaProcess, client: Client, bucket: str, bad: str
) -> None:
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="obj", Body=b"the old value")
    status, body = _signed_put(f"{secured.url}/{bucket}/obj", b"new bytes " * 20000, 65536, bad == "trailer", bad)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"the old value"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["obj"]


@pytest.mark.parametrize("declared", [199_999, 200_001, 0], ids=["fewer", "more", "zero"])
def test_a_decoded_length_that_differs_is_refused_and_nothing_is_stored(
    secured: LaminaProcess, client: Client, bucket: str, declared: int
) -> None:
    """A correctly signed chain whose X-Amz-Decoded-Content-Length is not the decoded length: S3's 400
    IncompleteBody, the key keeps its old value."""
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="obj", Body=b"the old value")
    status, body = _signed_put(f"{secured.url}/{bucket}/obj", b"new bytes " * 20000, 65536, True, declared=declared)
    assert status == 400, body
    assert b"<Code>IncompleteBody</Code>" in body
    assert b"You did not provide the number of bytes specified by the Content-Length HTTP header." in body
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"the old value"


def test_the_decoder_counts_decoded_bytes() -> None:
    """Offline: more bytes than declared fail as soon as they arrive, fewer at the end."""
    body = b"5\r\nhello\r\n0\r\n\r\n"
    exact = ChunkedDecoder(declared=5)
    assert b"".join(exact.feed(body)) == b"hello"
    exact.finish()
    with pytest.raises(S3Error, match="number of bytes"):
        ChunkedDecoder(declared=4).feed(body)
    short = ChunkedDecoder(declared=6)
    short.feed(body)
    with pytest.raises(S3Error, match="number of bytes"):
        short.finish()


def test_botocore_unsigned_trailer_upload_passes(client: Client, bucket: str) -> None:
    """botocore sends STREAMING-UNSIGNED-PAYLOAD-TRAILER (aws-chunked, CRC32 trailer) only over https; a
    before-call hook moves the checksum to the trailer here, as it would be over TLS."""
    s3 = client("s3")
    seen: dict[str, Any] = {}

    def to_trailer(params: dict[str, Any], **_: Any) -> None:
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    def record(request: Any, **_: Any) -> None:
        seen.update({k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})

    s3.meta.events.register("before-call.s3.PutObject", to_trailer)
    s3.meta.events.register("before-send.s3.PutObject", record)
    payload = b"trailing checksum " * 5000
    s3.put_object(Bucket=bucket, Key="trailed", Body=payload, ChecksumAlgorithm="CRC32")
    assert seen["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert "aws-chunked" in seen["Content-Encoding"]
    got = s3.get_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    assert got["ChecksumCRC32"] == base64.b64encode((zlib.crc32(payload) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def test_aws_documented_chain() -> None:
    """The example of AWS's "Transferring payload in multiple chunks" page: 64 KiB + 1 KiB of 'a', then the
    final chunk, each signature chained from the seed."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    key = Verifier(lambda _: None).signing_key(secret, "20130524", "us-east-1", "s3")
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    chain = ChunkChain(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed, trailer=False)
    for data, signature in [
        (b"a" * 65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
        (b"a" * 1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
        (b"", "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
    ]:
        chain.begin(signature)
        chain.update(data[:100])
        chain.update(data[100:])
        chain.end()
    wrong = ChunkChain(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed, trailer=False)
    wrong.begin("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648")
    wrong.update(b"a" * 65535)
    with pytest.raises(ChunkSignatureMismatch):
        wrong.end()


_LINES = [b"\r\n", b"0\r\n", b"x-amz-checksum-crc32:AAAAAA==\r\n", b"x-amz-trailer-signature:ab\r\n"]


def _chunk_head(size: int, signature: str) -> bytes:
    return f"{size:x};chunk-signature={signature}\r\n".encode()


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(
            st.binary(max_size=200),
            st.builds(
                lambda n, s: f"{n:x};chunk-signature={s}\r\n".encode(), st.integers(0, 300), st.text(max_size=70)
            ),
            st.sampled_from(
                [b"\r\n", b"0\r\n", b"x-amz-checksum-crc32:AAAAAA==\r\n", b"x-amz-trailer-signature:ab\r\n"]
            ),
        ),
        max_size=12,
    ),
    trailer=st.booleans(),
)
def test_fuzzed_signed_bodies_only_fail_as_s3_errors(pieces: list[bytes], trailer: bool) -> None:
    """Whatever a signed chunked body holds, decoding it answers S3's 4xx errors (SignatureDoesNotMatch,
    IncompleteBody), never another exception (a 500)."""
    key = Verifier(lambda _: None).signing_key(ROOT_SECRET, "20260101", "us-east-1", "s3")
    chain = ChunkChain(key, "20260101T000000Z", "20260101/us-east-1/s3/aws4_request", "0" * 64, trailer)
    decoder = ChunkedDecoder(chain)
    try:
        for piece in pieces:
            decoder.feed(piece)
        decoder.finish()
    except S3Error as error:
        assert error.status in (400, 403)
    else:
        raise AssertionError("a body no signature chains to was accepted")
