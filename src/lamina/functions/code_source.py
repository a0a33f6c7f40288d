"""Where a deployment package or layer content comes from: `ZipFile` bytes in the request, or an S3 object
(`S3Bucket`/`S3Key`/`S3ObjectVersion`) read through the callable app.py passes in, so the function control
plane never imports S3. S3's errors become Lambda's, as AWS words them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lamina.errors import InvalidParameter, ServiceFault

# (bucket, key, version id or None) → the object's bytes; raises S3's own fault (NoSuchBucket, NoSuchKey, ...).
ObjectBytes = Callable[[str, str, str | None], Awaitable[bytes]]


class CodeSource:
    def __init__(self, no_source: str, no_s3: str) -> None:
        self._no_source = no_source  # the message when the request names no source at all
        self._no_s3 = no_s3  # the message when it names S3 but this Lamina has none
        self.objects: ObjectBytes | None = None  # set by app.py once S3 is built

    async def zip_bytes(self, code: dict[str, Any]) -> bytes:
        if "ZipFile" in code:
            data: bytes = code["ZipFile"]
            return data
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if bucket is None and key is None:
            raise InvalidParameter(self._no_source, Type="User")
        if self.objects is None:
            raise InvalidParameter(self._no_s3, Type="User")
        if not bucket or not key:
            raise InvalidParameter(self._no_source, Type="User")
        try:
            return await self.objects(bucket, key, code.get("S3ObjectVersion"))
        except ServiceFault as fault:
            raise InvalidParameter(
                f"Error occurred while GetObject. S3 Error Code: {fault.code}. S3 Error Message: {fault.message}",
                Type="User",
            ) from None
