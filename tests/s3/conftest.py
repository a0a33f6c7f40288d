from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def s3(lamina: LaminaProcess) -> Any:
    return lamina.client("s3")


def empty_bucket(s3: Any, name: str) -> None:
    """Deletes every version, delete marker and upload of `name`, then the bucket."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
            items += [{"Key": m["Key"], "VersionId": m["VersionId"]} for m in page.get("DeleteMarkers", [])]
            if items:
                s3.delete_objects(Bucket=name, Delete={"Objects": items, "Quiet": True})
        for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("NoSuchBucket", "404"):
            raise


@pytest.fixture
def make_bucket(s3: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(versioned: bool = False) -> str:
        name = f"b-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=name)
        created.append(name)
        if versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    yield make
    for name in created:
        empty_bucket(s3, name)


@pytest.fixture
def bucket(make_bucket: Callable[..., str]) -> str:
    return make_bucket()
