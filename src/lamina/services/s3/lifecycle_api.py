"""S3's lifecycle operations on the wire: Put/Get/DeleteBucketLifecycleConfiguration. The rules' checks and their
sweep are lifecycle.py's."""

from __future__ import annotations

from typing import Any

from lamina.services.s3 import lifecycle
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error
from lamina.types import CallContext

MINIMUM_SIZES = ("all_storage_classes_128K", "varies_by_storage_class")


class LifecycleApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def put_bucket_lifecycle_configuration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.bucket(params["Bucket"])
        minimum = params.get("TransitionDefaultMinimumObjectSize") or MINIMUM_SIZES[0]
        if minimum not in MINIMUM_SIZES:
            raise S3Error("InvalidRequest", "Invalid TransitionDefaultMinimumObjectSize found", 400)
        rules = lifecycle.check(params.get("LifecycleConfiguration"))
        self._engine.update_bucket(params["Bucket"], lifecycle=rules, lifecycle_minimum_size=minimum)
        return {"TransitionDefaultMinimumObjectSize": minimum}

    def get_bucket_lifecycle_configuration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._engine.bucket(params["Bucket"])
        rules = bucket.get("lifecycle")
        if not rules:
            raise S3Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", 404,
                          BucketName=params["Bucket"])  # fmt: skip
        return {
            "Rules": rules,
            "TransitionDefaultMinimumObjectSize": bucket.get("lifecycle_minimum_size") or MINIMUM_SIZES[0],
        }

    def delete_bucket_lifecycle(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], lifecycle=None)
