"""Object bodies stream: a PUT is written to disk as it arrives from the socket and a GET is read from the file a
slice at a time, so a 1 GB object passes through a server whose peak RSS stays under 200 MB."""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.server import LaminaProcess

GIB = 1024**3
SLICE = 1024 * 1024
RSS_LIMIT = 200 * 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=300), f"{parts.path}?{parts.query}"


def put_streamed(url: str, size: int, piece: bytes) -> tuple[int, str, str]:
    """PUTs `size` bytes (`piece` repeated) without holding them: (status, ETag, our MD5)."""
    connection, target = _connection(url)
    md5 = hashlib.md5()
    connection.putrequest("PUT", target)
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    sent = 0
    while sent < size:
        data = piece[: size - sent]
        connection.send(data)
        md5.update(data)
        sent += len(data)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status, answer.getheader("ETag") or "", f'"{md5.hexdigest()}"'


@pytest.mark.slow
def test_one_gigabyte_put_and_get_in_bounded_memory(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    assert server.proc is not None
    s3 = server.client("s3", signature_version="s3v4")
    s3.create_bucket(Bucket="big-objects")
    piece = bytes(range(256)) * (SLICE // 256)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "big-objects", "Key": "one-gig"})
    status, etag, expected = put_streamed(put_url, GIB, piece)
    assert (status, etag) == (200, expected)
    assert s3.head_object(Bucket="big-objects", Key="one-gig")["ContentLength"] == GIB
    connection, target = _connection(
        s3.generate_presigned_url("get_object", Params={"Bucket": "big-objects", "Key": "one-gig"})
    )
    connection.request("GET", target)
    answer = connection.getresponse()
    assert answer.status == 200
    md5, got = hashlib.md5(), 0
    while data := answer.read(SLICE):
        md5.update(data)
        got += len(data)
    connection.close()
    assert (got, f'"{md5.hexdigest()}"') == (GIB, expected)
    peak = peak_rss(server.proc.pid)
    print(f"1 GB PUT + GET: server peak RSS {peak / 2**20:.0f} MB")
    assert peak < RSS_LIMIT, f"peak RSS {peak / 2**20:.0f} MB"


def test_a_body_cut_short_stores_nothing(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    s3 = server.client("s3", signature_version="s3v4")
    s3.create_bucket(Bucket="cut-short")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "cut-short", "Key": "half"})
    connection, target = _connection(url)
    connection.putrequest("PUT", target)
    connection.putheader("Content-Length", str(8 * SLICE))
    connection.endheaders()
    connection.send(b"x" * (3 * SLICE))
    connection.close()  # the client goes away half-way
    s3.put_object(Bucket="cut-short", Key="after", Body=b"the server still serves")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="cut-short")["Contents"]] == ["after"]
    assert list((server.data_dir / "s3" / "tmp").iterdir()) == []


@pytest.mark.slow
def test_a_half_gigabyte_post_upload_streams(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    """A browser-form POST (generate_presigned_post) goes to disk as it arrives, as a PUT does."""
    server = fresh_lamina()
    assert server.proc is not None
    s3 = server.client("s3")
    s3.create_bucket(Bucket="big-forms")
    post = s3.generate_presigned_post(Bucket="big-forms", Key="form-upload")
    boundary = "lamina-form-boundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in post["fields"].items()
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n'
    tail = f"\r\n--{boundary}--\r\n".encode()
    size, piece, md5 = GIB // 2, bytes(range(256)) * (SLICE // 256), hashlib.md5()
    connection, target = _connection(post["url"])
    connection.putrequest("POST", target.rstrip("?"))
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head.encode()) + size + len(tail)))
    connection.endheaders()
    connection.send(head.encode())
    for _ in range(size // SLICE):
        connection.send(piece)
        md5.update(piece)
    connection.send(tail)
    answer = connection.getresponse()
    assert (answer.status, answer.getheader("ETag")) == (204, f'"{md5.hexdigest()}"')
    connection.close()
    assert s3.head_object(Bucket="big-forms", Key="form-upload")["ContentLength"] == size
    peak = peak_rss(server.proc.pid)
    print(f"512 MB POST upload: server peak RSS {peak / 2**20:.0f} MB")
    assert peak < RSS_LIMIT, f"peak RSS {peak / 2**20:.0f} MB"
