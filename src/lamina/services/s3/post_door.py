"""The front door for S3 POST uploads: `POST /<bucket>` (or `POST /` on `<bucket>.s3.localhost`) with a
multipart/form-data body. Such a request carries its credentials in form fields, not in a signed header, so the
gateway's routing by credential scope cannot find it: this door claims it. The body streams to disk as it arrives
(the gateway's stream cap covers it); the object is committed with its `s3:ObjectCreated:Post` notifications.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

from lamina.api.front_door import host_name
from lamina.api.messages import Request, Response
from lamina.api.protocols.rest_xml import XML_TYPE, error_response, s3_request_ids, virtual_bucket
from lamina.auth.authorizer import ANONYMOUS, Authorizer, Denied
from lamina.auth.sigv4 import Verifier
from lamina.clock import Clock
from lamina.services.s3.engine import NULL, S3Engine, Upload, valid_bucket_name
from lamina.services.s3.faults import S3Error, malformed_xml
from lamina.services.s3.post_policy import Form, FormReader, Policy, check_policy, key_of, within
from lamina.services.s3.presign import S3_MAX_OBJECT
from lamina.services.s3.provider import object_acl

_PATH_BUCKET = re.compile(r"^/([^/?]+)/?$")
# Form fields that are the object's content headers (names as S3 compares them: lower-case).
_CONTENT = {"content-type": "ContentType", "content-encoding": "ContentEncoding", "content-disposition":
            "ContentDisposition", "content-language": "ContentLanguage", "cache-control": "CacheControl",
            "expires": "Expires"}  # fmt: skip


class S3PostDoor:
    def __init__(
        self,
        engine: S3Engine,
        clock: Clock,
        verifier: Verifier | None = None,
        authorizer: Authorizer | None = None,
        region: str = "us-east-1",
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._verifier = verifier  # --auth sigv4: the policy's signature is checked, then the signer's policies
        self._authorizer = authorizer
        self._region = region

    def _bucket(self, request: Request) -> str | None:
        named = virtual_bucket(request.headers.get("host", ""))
        if named is not None:
            return named if request.path in ("", "/") else None
        if host_name(request).endswith(".localhost"):
            return None  # another door's host
        m = _PATH_BUCKET.match(request.path)
        return m.group(1) if m and valid_bucket_name(m.group(1)) else None  # not /_lamina, say

    def claims(self, request: Request) -> bool:
        return (
            request.method == "POST"
            and request.headers.get("content-type", "").lower().startswith("multipart/form-data")
            and not request.query_string
            and self._bucket(request) is not None
        )

    def body_cap(self, request: Request) -> int:
        return S3_MAX_OBJECT + 1024 * 1024  # the object and its form fields

    def stream_cap(self, request: Request) -> int:
        return self.body_cap(request)

    async def serve(self, request: Request) -> Response:
        request_id = request.request_id
        bucket = self._bucket(request) or ""
        reader: FormReader | None = None
        try:
            reader = FormReader(
                request.body_stream if request.body_stream is not None else request.body,
                request.headers.get("content-type", ""),
            )
            response = await self._upload(request, bucket, reader, request_id)
        except S3Error as error:
            if reader is not None:
                try:
                    await reader.drain()
                except S3Error:
                    pass
            response = error_response(error.code, error.status, error.message, error.fields, request_id)
        amz_id, host_id = s3_request_ids(request_id)
        response.headers += [("x-amz-request-id", amz_id), ("x-amz-id-2", host_id)]
        return response

    async def _upload(self, request: Request, bucket_name: str, reader: FormReader, request_id: str) -> Response:
        bucket = self._engine.bucket(bucket_name)
        form = await reader.form()
        key = key_of(form)
        if form.filename is None:
            raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.", 400,
                          ArgumentName="file", ArgumentValue=0)  # fmt: skip
        if "policy" not in form.fields:  # an anonymous POST: only what grants everyone PutObject allows it
            self._anonymous(bucket_name, key)
            policy = Policy()
        else:
            self._signed(form, bucket_name, key)
            policy = check_policy(form.fields["policy"], form.fields, bucket_name, self._clock.time())
        upload = _upload_of(form)
        upload.acl = object_acl(bucket, {"ACL": form.fields["acl"]} if "acl" in form.fields else {})
        row = await self._engine.put_object(
            bucket_name, key, within(reader.file(), policy), upload, request_id, "ObjectCreated:Post"
        )
        await self._engine.notifications.deliver()
        etag = row.body["etag"]
        host = request.headers.get("host", "")
        path = f"/{bucket_name}" if virtual_bucket(host) is None else ""
        location = f"http://{host}{path}/{quote(key, safe='/~')}"
        headers = [("ETag", etag), ("Location", location)]
        if row.version_id != NULL:
            headers.append(("x-amz-version-id", row.version_id))
        redirect = form.fields.get("success_action_redirect") or form.fields.get("redirect")
        if redirect:
            query = urlencode({"bucket": bucket_name, "key": key, "etag": etag})
            return Response(303, [*headers[:1], ("Location", f"{redirect}{'&' if '?' in redirect else '?'}{query}")])
        status = form.fields.get("success_action_status")
        if status == "201":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
                f"<Location>{_xml(location)}</Location><Bucket>{_xml(bucket_name)}</Bucket>"
                f"<Key>{_xml(key)}</Key><ETag>{_xml(etag)}</ETag></PostResponse>"
            )
            return Response(201, [*headers, ("Content-Type", XML_TYPE)], body.encode())
        return Response(200 if status == "200" else 204, headers)

    def _anonymous(self, bucket: str, key: str) -> None:
        """Under --auth sigv4 a public-write ACL or a bucket policy for `*` may allow it; else (and always
        under --auth none, where no grant is evaluated) Access Denied."""
        try:
            if self._authorizer is None:
                raise Denied("Access Denied")
            self._authorizer.check(ANONYMOUS, "s3", "PutObject", {"Bucket": bucket, "Key": key}, self._region)
        except Denied:
            raise S3Error("AccessDenied", "Access Denied", 403) from None

    def _signed(self, form: Form, bucket: str, key: str) -> None:
        """Under --auth sigv4: the form's policy must be signed by a known key allowed s3:PutObject there."""
        if self._verifier is None:
            return
        secret = self._verifier.verify_post_policy(form.fields)
        if secret is None:
            raise S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                          "you provided. Check your key and signing method.", 403)  # fmt: skip
        if self._authorizer is not None:
            try:
                self._authorizer.check(secret.principal, "s3", "PutObject", {"Bucket": bucket, "Key": key},
                                       self._region, session=secret.session_policies,
                                       identity=secret.identity)  # fmt: skip
            except Denied:
                raise S3Error("AccessDenied", "Access Denied", 403) from None


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _upload_of(form: Form) -> Upload:
    """What the form's fields say about the object: content headers, x-amz-meta-*, storage class."""
    fields = form.fields
    content = {member: fields[name] for name, member in _CONTENT.items() if name in fields}
    content.setdefault("ContentType", "binary/octet-stream")
    metadata = {n.removeprefix("x-amz-meta-"): v for n, v in fields.items() if n.startswith("x-amz-meta-")}
    return Upload(content=content, metadata=metadata, storage_class=fields.get("x-amz-storage-class") or "STANDARD",
                  tags=_tags(fields.get("tagging")))  # fmt: skip


def _tags(text: str | None) -> dict[str, str]:
    """The form's `tagging` field: `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`."""
    if not text:
        return {}
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise malformed_xml() from None
    tags = {}
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            key = next((c.text for c in tag if c.tag.rsplit("}", 1)[-1] == "Key"), None)
            value = next((c.text for c in tag if c.tag.rsplit("}", 1)[-1] == "Value"), None)
            if key is None:
                raise malformed_xml()
            tags[key] = value or ""
    return tags


__all__ = ["Policy", "S3PostDoor"]
