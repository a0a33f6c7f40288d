"""S3's default-encryption operations on the wire: Put/Get/DeleteBucketEncryption (encryption.py holds the rules).
As AWS since January 2023, a bucket without a configuration answers SSE-S3, and deleting one restores it."""

from __future__ import annotations

from typing import Any

from lamina.services.s3 import encryption
from lamina.services.s3.engine import S3Engine
from lamina.types import CallContext


class EncryptionApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def put_bucket_encryption(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        rules = encryption.check(params.get("ServerSideEncryptionConfiguration"))
        self._engine.update_bucket(params["Bucket"], encryption=rules)

    def get_bucket_encryption(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._engine.bucket(params["Bucket"])
        return {"ServerSideEncryptionConfiguration": {"Rules": encryption.rules_of(bucket)}}

    def delete_bucket_encryption(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], encryption=None)
