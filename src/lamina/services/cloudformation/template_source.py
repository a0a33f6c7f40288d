"""Where a template comes from: TemplateBody in the request, or TemplateURL naming an object in Lamina's S3, read
through the callable app.py passes in (so CloudFormation never imports S3). The URL forms CloudFormation takes are
read as S3 locations: path style (`https://s3.<region>.amazonaws.com/bucket/key`, or Lamina's own
`http://127.0.0.1:<port>/bucket/key`, what `aws cloudformation deploy --s3-bucket` builds against an endpoint) and
virtual-host style (`https://bucket.s3.amazonaws.com/key`, `http://bucket.s3.localhost:<port>/key`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lamina.errors import ServiceFault
from lamina.services.cloudformation.template import MAX_BODY, validation_error

# (bucket, key, version id or None) → the object's bytes; raises S3's own fault (NoSuchBucket, NoSuchKey, ...).
ObjectBytes = Callable[[str, str, str | None], Awaitable[bytes]]

MAX_URL_BODY = 1_048_576  # bytes of a template in S3 CloudFormation accepts (TemplateBody: MAX_BODY)
MAX_URL = 1024
_S3_HOST = re.compile(r"^(?:(?P<bucket>.+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.(?:amazonaws\.com|localhost)$")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def s3_location(url: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) of a TemplateURL; CloudFormation's ValidationError when it names no S3 object."""
    unsupported = validation_error("TemplateURL must be a supported URL.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise unsupported
    host = parts.hostname.lower()
    path = unquote(parts.path).lstrip("/")
    version = parse_qs(parts.query).get("versionId", [""])[0] or None
    found = _S3_HOST.match(host)
    if found and found.group("bucket"):
        bucket, key = found.group("bucket"), path
    elif found or host in _LOCAL_HOSTS or parts.port is not None:
        bucket, _, key = path.partition("/")
    else:
        raise unsupported
    if not bucket or not key:
        raise unsupported
    return bucket, key, version


class TemplateSource:
    def __init__(self, objects: ObjectBytes | None = None) -> None:
        self.objects = objects  # set by app.py once S3 is built

    async def body(self, params: dict[str, Any]) -> tuple[str, int]:
        """(template text, the size limit it is held to): TemplateBody, or the object TemplateURL names."""
        body = params.get("TemplateBody")
        url = params.get("TemplateURL")
        if body is not None and url:
            raise validation_error("Specify exactly one of Template Body or Template URL.")
        if body is not None:
            return str(body), MAX_BODY
        if not url:
            raise validation_error("Either Template URL or Template Body must be specified.")
        if len(url) > MAX_URL:
            raise validation_error(
                f"1 validation error detected: Value '{url}' at 'templateURL' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_URL}"
            )
        bucket, key, version = s3_location(str(url))
        if self.objects is None:
            raise validation_error("TemplateURL must reference a valid S3 object to which you have access.")
        try:
            data = await self.objects(bucket, key, version)
        except ServiceFault as fault:
            if fault.code == "NoSuchKey":
                raise validation_error(f"S3 error: {fault.message}") from None
            raise validation_error("TemplateURL must reference a valid S3 object to which you have access.") from None
        if len(data) > MAX_URL_BODY:
            raise validation_error(f"Template may not exceed {MAX_URL_BODY} bytes in size.")
        try:
            return data.decode(), MAX_URL_BODY
        except UnicodeDecodeError:
            raise validation_error("Template format error: unsupported structure.") from None
