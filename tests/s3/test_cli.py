"""The aws CLI's high-level S3 commands against a real Lamina: an 8 MB `aws s3 cp` (a multipart upload, as the
CLI splits at 8 MB) up and down with the same bytes and ETag, `ls`, `sync` and `rm`; `aws s3api` for bucket CORS
and default encryption."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.aws_cli import AWS, cli_environment
from tests.s3.test_multipart import multipart_etag
from tests.server import LaminaProcess

MIB = 1024 * 1024


def _aws(lamina: LaminaProcess, folder: Path, *args: str) -> str:
    done = subprocess.run(
        [str(AWS), "--endpoint-url", lamina.url, *args],
        env=cli_environment(folder),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cp_8_mb_up_and_down(lamina: LaminaProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(8 * MIB + 12345)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    _aws(lamina, tmp_path, "s3", "cp", str(source), f"s3://{bucket}/videos/big.bin")
    head = s3.head_object(Bucket=bucket, Key="videos/big.bin")
    assert head["ContentLength"] == len(data)
    # the CLI uploads in 8 MiB parts: the ETag is the multipart one, two parts
    assert head["ETag"] == multipart_etag(data[: 8 * MIB], data[8 * MIB :])
    back = tmp_path / "back.bin"
    _aws(lamina, tmp_path, "s3", "cp", f"s3://{bucket}/videos/big.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert s3.get_object(Bucket=bucket, Key="videos/big.bin")["ETag"] == head["ETag"]


def test_ls_sync_rm(lamina: LaminaProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    tree = tmp_path / "site"
    (tree / "css").mkdir(parents=True)
    (tree / "index.html").write_text("<h1>hi</h1>")
    (tree / "css" / "main.css").write_text("h1 { color: red }")
    _aws(lamina, tmp_path, "s3", "sync", str(tree), f"s3://{bucket}/site")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["site/css/main.css", "site/index.html"]
    listing = _aws(lamina, tmp_path, "s3", "ls", f"s3://{bucket}/site/")
    assert "PRE css/" in listing and "index.html" in listing
    assert bucket in _aws(lamina, tmp_path, "s3", "ls")
    recursive = _aws(lamina, tmp_path, "s3", "ls", "--recursive", f"s3://{bucket}")
    assert "site/css/main.css" in recursive
    # a second sync sends nothing new; a changed file only is sent again
    assert _aws(lamina, tmp_path, "s3", "sync", str(tree), f"s3://{bucket}/site").strip() == ""
    (tree / "index.html").write_text("<h1>changed, and longer</h1>")
    again = _aws(lamina, tmp_path, "s3", "sync", str(tree), f"s3://{bucket}/site")
    assert "index.html" in again and "main.css" not in again
    assert s3.get_object(Bucket=bucket, Key="site/index.html")["Body"].read() == b"<h1>changed, and longer</h1>"
    down = tmp_path / "down"
    _aws(lamina, tmp_path, "s3", "sync", f"s3://{bucket}/site", str(down))
    assert (down / "css" / "main.css").read_text() == "h1 { color: red }"
    _aws(lamina, tmp_path, "s3", "rm", f"s3://{bucket}/site/index.html")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["site/css/main.css"]
    _aws(lamina, tmp_path, "s3", "rm", "--recursive", f"s3://{bucket}/site")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_s3api_cors_and_encryption(lamina: LaminaProcess, bucket: str, tmp_path: Path) -> None:
    rules = '{"CORSRules": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]}'
    _aws(lamina, tmp_path, "s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", rules)
    assert json.loads(_aws(lamina, tmp_path, "s3api", "get-bucket-cors", "--bucket", bucket)) == json.loads(rules)
    found = json.loads(_aws(lamina, tmp_path, "s3api", "get-bucket-encryption", "--bucket", bucket))
    default = found["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
