"""The seeds' S3 → Lambda → S3 application end to end: an image uploaded under `images/` notifies a function,
which reads it with plain boto3 (AWS_ENDPOINT_URL points at Lamina) and writes a half-size thumbnail under
`thumbnails/`; an upload elsewhere triggers nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import make_zip

ACCOUNT = "000000000000"
THUMBNAILER = """
import urllib.parse
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        magic, size, depth, pixels = data.split(b"\\n", 3)
        width, height = (int(n) for n in size.split())
        half = bytes(
            (pixels[y * width + x] + pixels[y * width + x + 1] + pixels[(y + 1) * width + x]
             + pixels[(y + 1) * width + x + 1]) // 4
            for y in range(0, height, 2)
            for x in range(0, width, 2)
        )
        out = magic + b"\\n" + f"{width // 2} {height // 2}".encode() + b"\\n" + depth + b"\\n" + half
        target = "thumbnails/" + key.split("/", 1)[1]
        s3.put_object(Bucket=bucket, Key=target, Body=out, ContentType="image/x-portable-graymap")
    return {"done": len(event["Records"])}
"""


def _pgm(width: int, height: int) -> bytes:
    pixels = bytes((x * 16 + y * 4) % 256 for y in range(height) for x in range(width))
    return b"P5\n" + f"{width} {height}".encode() + b"\n255\n" + pixels


def test_upload_makes_a_thumbnail(
    s3: Any, bucket: str, lambda_client: Any, create_function: Callable[..., Any]
) -> None:
    name = f"thumbs-{uuid.uuid4().hex[:8]}"
    create_function(name, Code={"ZipFile": make_zip({"app.py": THUMBNAILER})}, Timeout=30)
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=ACCOUNT,
    )
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}},
                }
            ]
        },
    )
    image = _pgm(8, 6)
    s3.put_object(Bucket=bucket, Key="images/my cat.pgm", Body=image)
    s3.put_object(Bucket=bucket, Key="docs/notes.txt", Body=b"no thumbnail for this")
    deadline = time.monotonic() + 60
    while True:
        try:
            thumb = s3.get_object(Bucket=bucket, Key="thumbnails/my cat.pgm")
            break
        except ClientError:
            assert time.monotonic() < deadline, "no thumbnail within 60 s"
            time.sleep(0.2)
    data = thumb["Body"].read()
    assert thumb["ContentType"] == "image/x-portable-graymap"
    header, size, depth, pixels = data.split(b"\n", 3)
    assert (header, size, depth, len(pixels)) == (b"P5", b"4 3", b"255", 12)
    source = image.split(b"\n", 3)[3]
    assert pixels[0] == (source[0] + source[1] + source[8] + source[9]) // 4
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["docs/notes.txt", "images/my cat.pgm", "thumbnails/my cat.pgm"]
