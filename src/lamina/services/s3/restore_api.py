"""S3's RestoreObject, minimally: a GLACIER or DEEP_ARCHIVE object gets a temporary readable copy, ready after the
tier's retrieval time on the project's clock (Expedited 5 minutes, Standard 5 hours, Bulk 12 hours; Deep Archive
Standard 12 hours, Bulk 48 hours: the longest of AWS's ranges) and kept `Days` after, to the next UTC midnight. The
first request answers 202, one for a ready copy 200 (its expiry moves to `Days` from now), one while the copy is
being made 409 RestoreAlreadyInProgress; an object in any other class is InvalidObjectState. Reads report the
status in `x-amz-restore` (storage_classes.py). SELECT restores and output locations are not served."""

from __future__ import annotations

from typing import Any

from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error, malformed_xml
from lamina.services.s3.storage_classes import ARCHIVED, RESTORE_HOURS, midnight_after, storage_class
from lamina.types import CallContext


class RestoreApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    async def restore_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "POST")
        cls = storage_class(row.body)
        if cls not in ARCHIVED:
            raise S3Error("InvalidObjectState", "Restore is not allowed for the object's current storage class", 403)
        request = params.get("RestoreRequest") or {}
        days = request.get("Days")
        if not isinstance(days, int) or days < 1:
            raise malformed_xml()
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get("Tier") or "Standard"
        now = self._engine.now()
        current = row.body.get("restore")
        if current and now < current["ready"]:
            raise S3Error("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        if current and now < current["expires"]:
            restore, status = {"ready": current["ready"], "expires": midnight_after(now, days)}, 200
        else:
            ready = now + RESTORE_HOURS.get((cls, tier), RESTORE_HOURS[(cls, "Standard")]) * 3600
            restore, status = {"ready": ready, "expires": midnight_after(ready, days)}, 202
        self._engine.update_object(params["Bucket"], row, {"restore": restore}, "ObjectRestore:Post", ctx.request_id)
        await self._engine.notifications.deliver()
        return {"_status": status}
