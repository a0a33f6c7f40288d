"""S3's bucket and object operations on the wire: parameters as the rest-xml protocol parsed them in, the
model's output members out. Behaviour is the engine's; this module translates (conditions, ranges,
listing markers, encodings)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

from lamina.api.protocols.rest_xml import parse_timestamp
from lamina.auth.policy_evaluation import statements
from lamina.services.s3 import acl, encryption
from lamina.services.s3.chunked import ChunkedDecoder
from lamina.services.s3.engine import CONTENT_FIELDS, NULL, BodySource, S3Engine, Upload, key_check, pieces
from lamina.services.s3.faults import S3Error, invalid_argument, malformed_xml, precondition_failed
from lamina.services.s3.notifications import TRACE, validate
from lamina.services.s3.storage_classes import check_copyable, check_readable, restore_status
from lamina.store.s3_sqlite import VersionRow
from lamina.types import CallContext

OWNER = {"ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", "DisplayName": "lamina"}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHECKSUM_MEMBERS = {"CRC32": "ChecksumCRC32", "CRC32C": "ChecksumCRC32C", "CRC64NVME": "ChecksumCRC64NVME",
                     "SHA1": "ChecksumSHA1", "SHA256": "ChecksumSHA256"}  # fmt: skip


def malformed_policy() -> S3Error:
    return S3Error("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'", 400)


def _etag_matches(condition: str, etag: str) -> bool:
    wanted = [c.strip() for c in condition.split(",")]
    return "*" in wanted or etag in wanted or etag.strip('"') in (w.strip('"') for w in wanted)


def upload_from(params: dict[str, Any]) -> Upload:
    """What a PutObject/CreateMultipartUpload request says about the object besides its bytes."""
    upload = Upload(
        content={name: params.get(name) for name in CONTENT_FIELDS if params.get(name) is not None},
        metadata=dict(params.get("Metadata") or {}),
        content_md5=params.get("ContentMD5"),
        storage_class=params.get("StorageClass") or "STANDARD",
    )
    encoding = upload.content.get("ContentEncoding")
    if encoding is not None:  # aws-chunked is how the body came, not what the object is
        rest = ",".join(e for e in (p.strip() for p in encoding.split(",")) if e and e != "aws-chunked")
        if rest:
            upload.content["ContentEncoding"] = rest
        else:
            del upload.content["ContentEncoding"]
    if upload.content.get("ContentType") is None:
        upload.content["ContentType"] = "binary/octet-stream"
    for algorithm, member in _CHECKSUM_MEMBERS.items():
        if params.get(member):
            upload.checksums[algorithm] = params[member]
    algorithm = (params.get("ChecksumAlgorithm") or "").upper()
    if algorithm in _CHECKSUM_MEMBERS and algorithm not in upload.checksums:
        upload.checksums[algorithm] = None
    if params.get("ServerSideEncryption"):
        upload.encryption = encryption.for_object({}, params)
    tagging = params.get("Tagging")
    if tagging:
        upload.tags = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in tagging.split("&"))}
    return upload


async def _decoded(body: BodySource, decoder: ChunkedDecoder, upload: Upload) -> AsyncIterator[bytes]:
    async for piece in pieces(body):
        for data in decoder.feed(piece):
            yield data
    decoder.finish()
    for name, value in decoder.trailers.items():
        if name.startswith("x-amz-checksum-"):
            algorithm = name.removeprefix("x-amz-checksum-").upper()
            if algorithm in _CHECKSUM_MEMBERS:
                upload.checksums[algorithm] = value


def body_of(params: dict[str, Any], upload: Upload, wire: dict[str, str]) -> BodySource:
    """The object's bytes: aws-chunked bodies decoded (trailing checksums then expected); a hex
    X-Amz-Content-Sha256 is checked against them as they arrive."""
    body: BodySource = params.get("Body") or b""
    claimed = wire.get("x-amz-content-sha256", "")
    if len(claimed) == 64 and all(c in "0123456789abcdef" for c in claimed.lower()):
        upload.content_sha256 = claimed.lower()
    if "aws-chunked" in wire.get("content-encoding", "") or wire.get("x-amz-content-sha256", "").startswith(
        "STREAMING-"
    ):
        for listed in wire.get("x-amz-trailer", "").split(","):
            name = listed.strip().lower()
            if name.startswith("x-amz-checksum-"):
                algorithm = name.removeprefix("x-amz-checksum-").upper()
                if algorithm in _CHECKSUM_MEMBERS:
                    upload.checksums.setdefault(algorithm, None)
        declared = wire.get("x-amz-decoded-content-length", "").strip()
        length = int(declared) if declared.isdigit() else None
        return _decoded(body, ChunkedDecoder(params.get("_chunk_chain"), length), upload)
    return body


def object_headers(row: VersionRow) -> dict[str, Any]:
    """The output members every read of an object carries."""
    doc = row.body
    out: dict[str, Any] = {
        "ETag": doc["etag"],
        "LastModified": doc["modified"],
        "ContentLength": doc["size"],
        "AcceptRanges": "bytes",
        "Metadata": doc.get("metadata") or None,
        **doc.get("content", {}),
        **encryption.members(doc),
    }
    if row.version_id != NULL:
        out["VersionId"] = row.version_id
    if doc.get("storage_class", "STANDARD") != "STANDARD":
        out["StorageClass"] = doc["storage_class"]
    if doc.get("parts"):
        out["PartsCount"] = doc["parts"]
    return out


def check_conditions(params: dict[str, Any], row: VersionRow) -> int | None:
    """304 when a GET/HEAD need not send the object; raises 412 when a precondition fails."""
    etag = row.body["etag"]
    modified = int(row.body["modified"])
    if_match = params.get("IfMatch")
    if if_match is not None and not _etag_matches(if_match, etag):
        raise precondition_failed("If-Match")
    unmodified = params.get("IfUnmodifiedSince")
    if if_match is None and unmodified is not None and modified > unmodified:
        raise precondition_failed("If-Unmodified-Since")
    none_match = params.get("IfNoneMatch")
    if none_match is not None and _etag_matches(none_match, etag):
        return 304
    since = params.get("IfModifiedSince")
    if none_match is None and since is not None and modified <= since:
        return 304
    return None


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a `Range: bytes=a-b` within `size`; None when the header is not one S3 honours."""
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        length = int(last)
        if length == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - length), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size:
        raise _unsatisfiable(header, size)
    if last and int(last) < start:
        return None
    return start, end


def _unsatisfiable(header: str, size: int) -> S3Error:
    return S3Error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        [("Content-Range", f"bytes */{size}")],
        RangeRequested=header,
        ActualObjectSize=size,
    )


def _encode(value: str | None, url: bool) -> str | None:
    return None if value is None or not url else quote(value, safe="/~")


def _max_keys(params: dict[str, Any]) -> int:
    value = params.get("MaxKeys", 1000)
    if value < 0:
        raise invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", value)
    return int(min(value, 1000))


def _owner() -> dict[str, str]:
    return dict(OWNER)


def _checksum_members(row: VersionRow) -> dict[str, str]:
    return {_CHECKSUM_MEMBERS[k]: v for k, v in (row.body.get("checksums") or {}).items() if k in _CHECKSUM_MEMBERS}


class S3Provider:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    # -- buckets --------------------------------------------------------------------------------
    def list_buckets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("Prefix") or ""
        found = [
            {"Name": name, "CreationDate": body["created"], "BucketRegion": body["region"]}
            for name, body in self._engine.buckets()
            if name.startswith(prefix)
        ]
        out: dict[str, Any] = {"Buckets": found, "Owner": _owner()}
        if prefix:
            out["Prefix"] = prefix
        return out

    def create_bucket(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = params["Bucket"]
        config = params.get("CreateBucketConfiguration") or {}
        location = config.get("LocationConstraint")
        region = ctx.region
        if location is not None:
            if (region == "us-east-1" and location == "us-east-1") or location == "":
                raise S3Error("InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
                              LocationConstraint=location)  # fmt: skip
            if location != region:
                raise S3Error(
                    "IllegalLocationConstraintException",
                    f"The {location} location constraint is incompatible for the region specific endpoint this "
                    "request was sent to.",
                    400,
                )
        elif region != "us-east-1":
            raise S3Error(
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific endpoint this request "
                "was sent to.",
                400,
            )
        ownership, grants = acl.check_create(params, OWNER)
        settings: dict[str, Any] = {"ownership": ownership, "public_access": dict(acl.DEFAULT_PUBLIC_ACCESS)}
        if grants is not None:
            settings["acl"] = grants
        self._engine.create_bucket(bucket, region, **settings)
        return {"Location": f"/{bucket}", "BucketArn": f"arn:aws:s3:::{bucket}"}

    def head_bucket(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        body = self._engine.bucket(params["Bucket"])
        return {"BucketRegion": body["region"], "AccessPointAlias": False}

    def delete_bucket(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete_bucket(params["Bucket"])

    def get_bucket_location(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        region = self._engine.bucket(params["Bucket"])["region"]
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def put_bucket_tagging(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        tags = tags_of(params.get("Tagging"), 50)
        self._engine.update_bucket(params["Bucket"], tags=tags)

    def get_bucket_tagging(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._engine.bucket(params["Bucket"]).get("tags")
        if not tags:
            raise S3Error("NoSuchTagSet", "The TagSet does not exist", 404, BucketName=params["Bucket"])
        return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def delete_bucket_tagging(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], tags=None)

    # -- bucket policies (evaluated beside identity policies under --auth sigv4: auth/resource_policies.py) ---------
    def put_bucket_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        name = params["Bucket"]
        self._engine.bucket(name)
        text = params.get("Policy") or b""
        if not isinstance(text, bytes | str):
            raise malformed_policy()
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        try:
            document = json.loads(raw)
        except ValueError:
            raise malformed_policy() from None
        if not raw.lstrip().startswith("{") or not isinstance(document, dict):
            raise malformed_policy()
        if not statements(document):
            raise S3Error("MalformedPolicy", "Missing required field Statement", 400)
        self._engine.update_bucket(name, policy=raw)

    def get_bucket_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        policy = self._engine.bucket(name).get("policy")
        if policy is None:
            raise S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=name)
        return {"Policy": str(policy).encode()}

    def delete_bucket_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], policy=None)

    def put_bucket_versioning(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        config = params.get("VersioningConfiguration")
        if config is None:
            raise malformed_xml()
        status = config.get("Status")
        if status is None:
            raise S3Error("IllegalVersioningConfigurationException", "The Versioning element must be specified", 400)
        if status not in ("Enabled", "Suspended"):
            raise malformed_xml()
        self._engine.update_bucket(params["Bucket"], versioning=status)

    def get_bucket_versioning(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        status = self._engine.bucket(params["Bucket"]).get("versioning")
        return {"Status": status} if status else {}

    # -- notifications --------------------------------------------------------------------------
    async def put_bucket_notification_configuration(self, ctx: CallContext, params: dict[str, Any]) -> None:
        name = params["Bucket"]
        self._engine.bucket(name)
        notifications = self._engine.notifications
        if notifications.targets is None:
            raise S3Error("NotImplemented", "Bucket notifications have no targets in this Lamina", 501)
        config = validate(
            params.get("NotificationConfiguration") or {},
            bool(params.get("SkipDestinationValidation")),
            f"arn:aws:s3:::{name}",
            notifications.targets,
        )
        self._engine.update_bucket(name, notification=config or None)
        await notifications.test_event(name, config, ctx.request_id, self._engine.now())

    def get_bucket_notification_configuration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = self._engine.bucket(params["Bucket"]).get("notification") or {}
        return config

    # -- objects --------------------------------------------------------------------------------
    async def put_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        TRACE.set(ctx.trace_header)
        upload = upload_from(params)
        upload.acl = object_acl(self._engine.bucket(params["Bucket"]), params)
        body = body_of(params, upload, params.get("_headers") or {})
        key_check(params["Key"])
        self._condition_on_write(params)
        row = await self._engine.put_object(params["Bucket"], params["Key"], body, upload, ctx.request_id)
        await self._engine.notifications.deliver()
        out: dict[str, Any] = {"ETag": row.body["etag"], **_checksum_members(row), **encryption.members(row.body)}
        if row.body.get("checksums"):
            out["ChecksumType"] = "FULL_OBJECT"
        if row.version_id != NULL:
            out["VersionId"] = row.version_id
        return out

    def _condition_on_write(self, params: dict[str, Any]) -> None:
        """If-None-Match: * (create only) and If-Match (replace only that ETag) on PutObject."""
        if_none, if_match = params.get("IfNoneMatch"), params.get("IfMatch")
        if if_none is None and if_match is None:
            return
        try:
            current = self._engine.readable(params["Bucket"], params["Key"], None, "PUT")
        except S3Error as error:
            if error.code != "NoSuchKey":
                raise
            if if_match is not None:
                raise no_such_key_for_write(params["Key"]) from None
            return
        if if_none is not None and if_none.strip() == "*":
            raise precondition_failed("If-None-Match")
        if if_match is not None and not _etag_matches(if_match, current.body["etag"]):
            raise precondition_failed("If-Match")

    def head_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "HEAD")
        out = object_headers(row)
        restore = restore_status(row.body, self._engine.now())
        if restore is not None:
            out["Restore"] = restore
        if params.get("ChecksumMode") == "ENABLED":
            out.update(_checksum_members(row))
        status = check_conditions(params, row)
        if status is not None:
            return {"_status": status, "ETag": row.body["etag"], "LastModified": row.body["modified"]}
        rng = params.get("Range")
        if rng:
            found = byte_range(rng, row.body["size"])
            if found is not None:
                start, end = found
                out.update(ContentLength=end - start, ContentRange=f"bytes {start}-{end - 1}/{row.body['size']}")
                out["_status"] = 206
        return out

    def get_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "GET")
        now = self._engine.now()
        check_readable(row.body, now)  # GLACIER / DEEP_ARCHIVE: InvalidObjectState until restored
        status = check_conditions(params, row)
        if status is not None:
            return {"_status": status, "ETag": row.body["etag"], "LastModified": row.body["modified"]}
        out = object_headers(row)
        restore = restore_status(row.body, now)
        if restore is not None:
            out["Restore"] = restore
        if params.get("ChecksumMode") == "ENABLED":
            out.update(_checksum_members(row))
        size = row.body["size"]
        start, end = 0, size
        rng = params.get("Range")
        if rng:
            found = byte_range(rng, size)
            if found is not None:
                start, end = found
                out["ContentRange"] = f"bytes {start}-{end - 1}/{size}"
                out["_status"] = 206
                out.pop("ChecksumCRC32", None)
        for member, header in (("ResponseContentType", "ContentType"), ("ResponseContentDisposition",
                               "ContentDisposition"), ("ResponseContentEncoding", "ContentEncoding"),
                               ("ResponseContentLanguage", "ContentLanguage"), ("ResponseCacheControl",
                               "CacheControl"), ("ResponseExpires", "Expires")):  # fmt: skip
            if params.get(member) is not None:
                out[header] = params[member]
        out["ContentLength"] = end - start
        file = row.body.get("file")
        out["Body"] = (self._engine.files.read(file, start, end), end - start) if file and end > start else b""
        return out

    async def delete_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        key_check(params["Key"])
        version_id, marker = self._engine.delete_object(
            params["Bucket"], params["Key"], params.get("VersionId"), ctx.request_id
        )
        await self._engine.notifications.deliver()
        out: dict[str, Any] = {}
        if version_id is not None and (version_id != NULL or params.get("VersionId")):
            out["VersionId"] = version_id
        if marker:
            out["DeleteMarker"] = True
        return out

    async def delete_objects(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._delete_objects(ctx, params)
        finally:
            await self._engine.notifications.deliver()

    def _delete_objects(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.bucket(params["Bucket"])
        delete = params.get("Delete")
        if not delete or "Objects" not in delete:
            raise malformed_xml()
        objects = delete["Objects"]
        if len(objects) > 1000:
            raise malformed_xml()
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in objects:
            key = item.get("Key")
            if key is None:
                raise malformed_xml()
            try:
                key_check(key)
                version_id, marker = self._engine.delete_object(
                    params["Bucket"], key, item.get("VersionId"), ctx.request_id
                )
            except S3Error as error:
                errors.append({"Key": key, "VersionId": item.get("VersionId"), "Code": error.code,
                               "Message": error.message})  # fmt: skip
                continue
            if delete.get("Quiet"):
                continue
            entry: dict[str, Any] = {"Key": key}
            if item.get("VersionId"):
                entry["VersionId"] = item["VersionId"]
                if marker:
                    entry["DeleteMarker"] = True
                    entry["DeleteMarkerVersionId"] = item["VersionId"]
            elif marker:
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = version_id
            deleted.append(entry)
        out: dict[str, Any] = {}
        if deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out

    async def copy_object(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        source_bucket, source_key, source_version = parse_copy_source(params["CopySource"])
        key_check(params["Key"])
        bucket_name = params["Bucket"]
        bucket = self._engine.bucket(bucket_name)
        source = self._engine.readable(source_bucket, source_key, source_version, "GET")
        check_copyable(source.body, self._engine.now())
        copy_conditions(params, source)
        directive = (params.get("MetadataDirective") or "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
        same = (source_bucket, source_key) == (bucket_name, params["Key"])
        if same and directive == "COPY" and not params.get("StorageClass") and bucket.get("versioning") is None:
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without changing the "
                "object's metadata, storage class, website redirect location or encryption attributes.",
                400,
            )
        if directive == "REPLACE":
            upload = upload_from(params)
        else:
            upload = Upload(
                content=dict(source.body.get("content", {})), metadata=dict(source.body.get("metadata", {}))
            )
        upload.storage_class = params.get("StorageClass") or upload.storage_class
        upload.acl = object_acl(bucket, params)
        TRACE.set(ctx.trace_header)
        row = await self._engine.copy(source, bucket_name, params["Key"], upload, ctx.request_id)
        await self._engine.notifications.deliver()
        out: dict[str, Any] = {"CopyObjectResult": {"ETag": row.body["etag"], "LastModified": row.body["modified"],
                               **_checksum_members(row)}, **encryption.members(row.body)}  # fmt: skip
        if row.version_id != NULL:
            out["VersionId"] = row.version_id
        if source.version_id != NULL:
            out["CopySourceVersionId"] = source.version_id
        return out

    # -- listing --------------------------------------------------------------------------------
    def list_objects(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("EncodingType") == "url"
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
        marker = params.get("Marker") or ""
        max_keys = _max_keys(params)
        rows, prefixes, truncated, last = self._engine.list_latest(
            params["Bucket"], prefix, delimiter, max_keys, marker
        )
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": _encode(prefix, url) if url else prefix,
            "Marker": _encode(marker, url) if url else marker,
            "MaxKeys": max_keys,
            "IsTruncated": truncated,
            "Contents": [self._entry(r, url, owner=True) for r in rows] or None,
            "CommonPrefixes": [{"Prefix": _encode(p, url) if url else p} for p in prefixes] or None,
        }
        if delimiter:
            out["Delimiter"] = _encode(delimiter, url) if url else delimiter
            if truncated:
                out["NextMarker"] = _encode(last, url) if url else last
        if url:
            out["EncodingType"] = "url"
        return out

    def list_objects_v2(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("EncodingType") == "url"
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter") or ""
        after = start_after
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (ValueError, UnicodeDecodeError):
                raise invalid_argument("The continuation token provided is incorrect", "continuation-token",
                                       token) from None  # fmt: skip
        max_keys = _max_keys(params)
        rows, prefixes, truncated, last = self._engine.list_latest(params["Bucket"], prefix, delimiter, max_keys, after)
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": _encode(prefix, url) if url else prefix,
            "MaxKeys": max_keys,
            "KeyCount": len(rows) + len(prefixes),
            "IsTruncated": truncated,
            "Contents": [self._entry(r, url, owner=bool(params.get("FetchOwner"))) for r in rows] or None,
            "CommonPrefixes": [{"Prefix": _encode(p, url) if url else p} for p in prefixes] or None,
        }
        if delimiter:
            out["Delimiter"] = _encode(delimiter, url) if url else delimiter
        if token is not None:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = _encode(start_after, url) if url else start_after
        if truncated:
            out["NextContinuationToken"] = base64.urlsafe_b64encode(last.encode()).decode()
        if url:
            out["EncodingType"] = "url"
        return out

    def list_object_versions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("EncodingType") == "url"
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
        key_marker, version_marker = params.get("KeyMarker") or "", params.get("VersionIdMarker") or ""
        if version_marker and not key_marker:
            raise invalid_argument("A version-id marker cannot be specified without a key marker.",
                                   "version-id-marker", version_marker)  # fmt: skip
        max_keys = _max_keys(params)
        rows, prefixes, truncated, last = self._engine.list_versions(
            params["Bucket"], prefix, delimiter, max_keys, key_marker, version_marker
        )
        versions, markers = [], []
        for row in rows:
            entry: dict[str, Any] = {
                "Key": _encode(row.key, url) if url else row.key,
                "VersionId": row.version_id,
                "IsLatest": row.latest,
                "LastModified": row.body["modified"],
                "Owner": _owner(),
            }
            if row.body.get("delete_marker"):
                markers.append(entry)
            else:
                entry.update(ETag=row.body["etag"], Size=row.body["size"],
                             StorageClass=row.body.get("storage_class", "STANDARD"))  # fmt: skip
                versions.append(entry)
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": _encode(prefix, url) if url else prefix,
            "KeyMarker": _encode(key_marker, url) if url else key_marker,
            "VersionIdMarker": version_marker,
            "MaxKeys": max_keys,
            "IsTruncated": truncated,
            "Versions": versions or None,
            "DeleteMarkers": markers or None,
            "CommonPrefixes": [{"Prefix": _encode(p, url) if url else p} for p in prefixes] or None,
        }
        if delimiter:
            out["Delimiter"] = delimiter
        if truncated:
            out["NextKeyMarker"] = _encode(last[0], url) if url else last[0]
            out["NextVersionIdMarker"] = last[1] or None
        if url:
            out["EncodingType"] = "url"
        return out

    def _entry(self, row: VersionRow, url: bool, owner: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Key": _encode(row.key, url) if url else row.key,
            "LastModified": row.body["modified"],
            "ETag": row.body["etag"],
            "Size": row.body["size"],
            "StorageClass": row.body.get("storage_class", "STANDARD"),
        }
        checksums = row.body.get("checksums") or {}
        if checksums:
            entry["ChecksumAlgorithm"] = sorted(checksums)
            entry["ChecksumType"] = "COMPOSITE" if row.body.get("parts") else "FULL_OBJECT"
        if owner:
            entry["Owner"] = _owner()
        return entry


def object_acl(bucket: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The grants a write's x-amz-acl / x-amz-grant-* headers give the new object, as the bucket allows them."""
    grants, only_owner = acl.requested(params, OWNER, body_allowed=False)
    if grants is not None:
        acl.check_settable(bucket, grants, only_owner)
    return grants


def tags_of(tagging: dict[str, Any] | None, most: int) -> dict[str, str]:
    """A Tagging document's tags, checked as S3 checks a bucket's or an object's (at most `most` of them)."""
    if tagging is None or "TagSet" not in tagging:
        raise malformed_xml()
    tags: dict[str, str] = {}
    for tag in tagging["TagSet"]:
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise malformed_xml()
        if key in tags:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key", 400, TagKey=key)
        if key.startswith("aws:"):
            raise S3Error("InvalidTag", "System tags cannot be added/updated by requester", 400)
        if len(key) > 128:
            raise S3Error("InvalidTag", "The TagKey you have provided is too long, max 128", 400, TagKey=key)
        if len(value) > 256:
            raise S3Error("InvalidTag", "The TagValue you have provided is too long, max 256", 400,
                          TagKey=key, TagValue=value)  # fmt: skip
        tags[key] = value
    if len(tags) > most:
        raise S3Error("BadRequest", f"Object tags cannot be greater than {most}", 400)
    return tags


def no_such_key_for_write(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """`bucket/key[?versionId=v]`, URL-encoded, with or without a leading slash."""
    path, _, query = value.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", value)
    version = None
    for part in query.split("&"):
        name, _, v = part.partition("=")
        if name == "versionId":
            version = unquote(v)
    return bucket, key, version


def copy_conditions(params: dict[str, Any], source: VersionRow) -> None:
    etag, modified = source.body["etag"], int(source.body["modified"])
    match = params.get("CopySourceIfMatch")
    if match is not None and not _etag_matches(match, etag):
        raise precondition_failed("x-amz-copy-source-If-Match")
    none_match = params.get("CopySourceIfNoneMatch")
    if none_match is not None and _etag_matches(none_match, etag):
        raise precondition_failed("x-amz-copy-source-If-None-Match")
    unmodified = params.get("CopySourceIfUnmodifiedSince")
    if unmodified is not None and match is None and modified > unmodified:
        raise precondition_failed("x-amz-copy-source-If-Unmodified-Since")
    since = params.get("CopySourceIfModifiedSince")
    if since is not None and none_match is None and modified <= since:
        raise precondition_failed("x-amz-copy-source-If-Modified-Since")


__all__ = ["S3Provider", "parse_timestamp"]
