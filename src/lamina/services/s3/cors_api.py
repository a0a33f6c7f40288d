"""S3's CORS operations on the wire: Put/Get/DeleteBucketCors. Matching and the answer's headers are cors.py's;
preflights and actual requests are answered by cors_door.py."""

from __future__ import annotations

from typing import Any

from lamina.services.s3 import cors
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error
from lamina.types import CallContext


class CorsApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def put_bucket_cors(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        rules = cors.check(params.get("CORSConfiguration"))
        self._engine.update_bucket(params["Bucket"], cors=rules)

    def get_bucket_cors(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rules = self._engine.bucket(params["Bucket"]).get("cors")
        if not rules:
            raise S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404,
                          BucketName=params["Bucket"])  # fmt: skip
        return {"CORSRules": rules}

    def delete_bucket_cors(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], cors=None)
