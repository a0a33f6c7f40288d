"""S3's object tagging operations on the wire: Get/Put/DeleteObjectTagging, each change committed with its
`s3:ObjectTagging:Put`/`Delete` notifications."""

from __future__ import annotations

from typing import Any

from lamina.services.s3.engine import NULL, S3Engine
from lamina.services.s3.provider import tags_of
from lamina.types import CallContext

MAX_OBJECT_TAGS = 10


class ObjectTaggingApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def _version(self, row_version: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"VersionId": row_version} if row_version != NULL or params.get("VersionId") else {}

    def get_object_tagging(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "GET")
        tags = row.body.get("tags") or {}
        return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()], **self._version(row.version_id, params)}

    async def put_object_tagging(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "PUT")
        tags = tags_of(params.get("Tagging"), MAX_OBJECT_TAGS)
        self._engine.update_object(params["Bucket"], row, {"tags": tags or None}, "ObjectTagging:Put", ctx.request_id)
        await self._engine.notifications.deliver()
        return self._version(row.version_id, params)

    async def delete_object_tagging(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "DELETE")
        self._engine.update_object(params["Bucket"], row, {"tags": None}, "ObjectTagging:Delete", ctx.request_id)
        await self._engine.notifications.deliver()
        return self._version(row.version_id, params)
