"""Multipart uploads: parts are files of their own until CompleteMultipartUpload joins them (streamed, in part
order) into the object's file, whose ETag is the MD5 of the parts' MD5s with `-N`. Every part but the last
must be at least 5 MiB; parts named in the completion must exist with the ETag given, in ascending order."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from lamina.services.s3.checksums import encoded, hasher
from lamina.services.s3.engine import NULL, S3Engine, Upload, key_check
from lamina.services.s3.faults import S3Error, invalid_argument, malformed_xml, no_such_upload
from lamina.services.s3.notifications import TRACE
from lamina.services.s3.provider import (
    _CHECKSUM_MEMBERS,
    OWNER,
    body_of,
    byte_range,
    copy_conditions,
    object_acl,
    parse_copy_source,
    upload_from,
)
from lamina.services.s3.storage_classes import check_copyable
from lamina.types import CallContext

MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10000


class MultipartApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def _upload(self, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.bucket(params["Bucket"])
        found = self._engine.store.upload(params["UploadId"])
        if found is None or found[:2] != (params["Bucket"], params["Key"]):
            raise no_such_upload(params["UploadId"])
        return found[2]

    def create_multipart_upload(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.bucket(params["Bucket"])
        key_check(params["Key"])
        upload = upload_from(params)
        grants = object_acl(self._engine.bucket(params["Bucket"]), params)
        algorithm = (params.get("ChecksumAlgorithm") or "").upper() or None
        upload_id = secrets.token_urlsafe(48)
        body = {
            "initiated": self._engine.now(),
            "content": upload.content,
            "metadata": upload.metadata,
            "storage_class": upload.storage_class,
            "tags": upload.tags,
            "algorithm": algorithm,
            "acl": grants,
        }
        self._engine.store.put_upload(upload_id, params["Bucket"], params["Key"], body)
        out: dict[str, Any] = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = "COMPOSITE"
        return out

    def _part_number(self, params: dict[str, Any]) -> int:
        number = int(params["PartNumber"])
        if not 1 <= number <= MAX_PARTS:
            raise invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive", "partNumber", number
            )
        return number

    async def upload_part(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        number = self._part_number(params)
        self._upload(params)
        upload = upload_from({k: v for k, v in params.items() if k != "ContentType"})
        body = body_of(params, upload, params.get("_headers") or {})
        pending = await self._engine.receive(body, upload)
        try:
            written = await pending.commit()
        except BaseException:
            pending.discard()
            raise
        return self._record_part(params, number, written.file, written.size, written.md5, written.checksums)

    def _record_part(
        self, params: dict[str, Any], number: int, file: str, size: int, md5: bytes, checksums: dict[str, str]
    ) -> dict[str, Any]:
        etag = f'"{md5.hex()}"'
        part = {"size": size, "etag": etag, "file": file, "modified": self._engine.now(), "checksums": checksums}
        if self._engine.store.upload(params["UploadId"]) is None:  # aborted while the part came in
            self._engine.files.remove(file)
            raise no_such_upload(params["UploadId"])
        replaced = self._engine.store.put_part(params["UploadId"], number, part)
        if replaced is not None:
            self._engine.files.remove(replaced.get("file"))
        return {"ETag": etag, **{_CHECKSUM_MEMBERS[k]: v for k, v in checksums.items()}}

    async def upload_part_copy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        number = self._part_number(params)
        self._upload(params)
        bucket, key, version = parse_copy_source(params["CopySource"])
        source = self._engine.readable(bucket, key, version, "GET")
        check_copyable(source.body, self._engine.now())
        copy_conditions(params, source)
        size = source.body["size"]
        start, end = 0, size
        if params.get("CopySourceRange"):
            found = byte_range(params["CopySourceRange"], size)
            if found is None or found[1] - found[0] != _asked_length(params["CopySourceRange"], size):
                raise S3Error(
                    "InvalidRange",
                    "The requested range is not satisfiable",
                    416,
                    RangeRequested=params["CopySourceRange"],
                    ActualObjectSize=size,
                )
            start, end = found
        pending = self._engine.files.begin()
        try:
            if end > start:
                async for piece in self._engine.files.read(source.body["file"], start, end):
                    pending.write(piece)
            written = await pending.commit()
        except BaseException:
            pending.discard()
            raise
        self._record_part(params, number, written.file, written.size, written.md5, written.checksums)
        out: dict[str, Any] = {"CopyPartResult": {"ETag": f'"{written.md5.hex()}"', "LastModified": self._engine.now()}}
        if source.version_id != NULL:
            out["CopySourceVersionId"] = source.version_id
        return out

    async def complete_multipart_upload(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        TRACE.set(ctx.trace_header)
        body = self._upload(params)
        given = (params.get("MultipartUpload") or {}).get("Parts")
        if not given:
            raise S3Error("InvalidRequest", "You must specify at least one part", 400)
        stored = self._engine.store.parts(params["UploadId"])
        previous = 0
        chosen = []
        for item in given:
            number = item.get("PartNumber")
            if number is None:
                raise malformed_xml()
            if number <= previous:
                raise S3Error(
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. Parts must be ordered by part number.",
                    400,
                    UploadId=params["UploadId"],
                )
            previous = number
            part = stored.get(number)
            etag = (item.get("ETag") or "").strip('"')
            if part is None or part["etag"].strip('"') != etag:
                raise S3Error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found.  The part may not have been uploaded, "
                    "or the specified entity tag may not match the part's entity tag.",
                    400,
                    UploadId=params["UploadId"],
                    PartNumber=number,
                    ETag=item.get("ETag"),
                )
            chosen.append((number, part))
        for number, part in chosen[:-1]:
            if part["size"] < MIN_PART:
                raise S3Error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    400,
                    ProposedSize=part["size"],
                    MinSizeAllowed=MIN_PART,
                    PartNumber=number,
                    ETag=part["etag"],
                )
        pending = self._engine.files.begin()
        try:
            for _, part in chosen:
                async for piece in self._engine.files.read(part["file"]):
                    pending.write(piece)
            written = await pending.commit()
        except BaseException:
            pending.discard()
            raise
        md5s = b"".join(bytes.fromhex(part["etag"].strip('"')) for _, part in chosen)
        doc: dict[str, Any] = {
            "size": written.size,
            "etag": f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"',
            "file": written.file,
            "parts": len(chosen),
            "checksums": _composite(body.get("algorithm"), chosen),
        }
        upload = Upload(
            content=body.get("content", {}),
            metadata=body.get("metadata", {}),
            storage_class=body.get("storage_class", "STANDARD"),
            tags=body.get("tags") or {},
            acl=body.get("acl"),
        )
        bucket = self._engine.bucket(params["Bucket"])
        row = self._engine.commit_object(params["Bucket"], bucket, params["Key"], doc, upload,
                                         "ObjectCreated:CompleteMultipartUpload", ctx.request_id)  # fmt: skip
        self._engine.store.delete_upload(params["UploadId"])
        for _, part in stored.items():
            self._engine.files.remove(part.get("file"))
        await self._engine.notifications.deliver()
        out: dict[str, Any] = {
            "Location": f"{ctx.base_url}/{params['Bucket']}/{params['Key']}",
            "Bucket": params["Bucket"],
            "Key": params["Key"],
            "ETag": doc["etag"],
            **{_CHECKSUM_MEMBERS[k]: v for k, v in doc["checksums"].items()},
        }
        if doc["checksums"]:
            out["ChecksumType"] = "COMPOSITE"
        if row.version_id != NULL:
            out["VersionId"] = row.version_id
        return out

    def abort_multipart_upload(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._upload(params)
        parts = self._engine.store.parts(params["UploadId"])
        self._engine.store.delete_upload(params["UploadId"])
        for part in parts.values():
            self._engine.files.remove(part.get("file"))
        return {}

    def list_parts(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        body = self._upload(params)
        marker = int(params.get("PartNumberMarker") or 0)
        max_parts = min(int(params.get("MaxParts") or 1000), 1000)
        parts = [(n, p) for n, p in self._engine.store.parts(params["UploadId"]).items() if n > marker]
        page = parts[:max_parts]
        out: dict[str, Any] = {
            "Bucket": params["Bucket"],
            "Key": params["Key"],
            "UploadId": params["UploadId"],
            "PartNumberMarker": marker,
            "MaxParts": max_parts,
            "IsTruncated": len(parts) > max_parts,
            "Parts": [
                {
                    "PartNumber": n,
                    "LastModified": p["modified"],
                    "ETag": p["etag"],
                    "Size": p["size"],
                    **{_CHECKSUM_MEMBERS[k]: v for k, v in (p.get("checksums") or {}).items()},
                }
                for n, p in page
            ]
            or None,
            "Initiator": dict(OWNER),
            "Owner": dict(OWNER),
            "StorageClass": body.get("storage_class", "STANDARD"),
        }
        if page:
            out["NextPartNumberMarker"] = page[-1][0]
        if body.get("algorithm"):
            out["ChecksumAlgorithm"] = body["algorithm"]
        return out

    def list_multipart_uploads(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.bucket(params["Bucket"])
        prefix = params.get("Prefix") or ""
        key_marker, id_marker = params.get("KeyMarker") or "", params.get("UploadIdMarker") or ""
        max_uploads = min(int(params.get("MaxUploads") or 1000), 1000)
        found = []
        for upload_id, key, body in self._engine.store.uploads(params["Bucket"]):
            if not key.startswith(prefix):
                continue
            if key_marker and (key < key_marker or (key == key_marker and (not id_marker or upload_id <= id_marker))):
                continue
            found.append((upload_id, key, body))
        page = found[:max_uploads]
        out: dict[str, Any] = {
            "Bucket": params["Bucket"],
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "Prefix": prefix,
            "MaxUploads": max_uploads,
            "IsTruncated": len(found) > max_uploads,
            "Uploads": [
                {
                    "UploadId": u,
                    "Key": k,
                    "Initiated": b["initiated"],
                    "StorageClass": b.get("storage_class", "STANDARD"),
                    "Owner": dict(OWNER),
                    "Initiator": dict(OWNER),
                }
                for u, k, b in page
            ]
            or None,
        }
        if len(found) > max_uploads:
            out["NextKeyMarker"], out["NextUploadIdMarker"] = page[-1][1], page[-1][0]
        return out


def _part_entry(number: int, part: dict[str, Any]) -> dict[str, Any]:
    entry = {"PartNumber": number, "LastModified": part["modified"], "ETag": part["etag"], "Size": part["size"]}
    entry.update({_CHECKSUM_MEMBERS[k]: v for k, v in (part.get("checksums") or {}).items()})
    return entry


def _upload_entry(upload_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "UploadId": upload_id,
        "Key": key,
        "Initiated": body["initiated"],
        "StorageClass": body.get("storage_class", "STANDARD"),
        "Owner": dict(OWNER),
        "Initiator": dict(OWNER),
    }


def _asked_length(header: str, size: int) -> int:
    first, _, last = header.removeprefix("bytes=").partition("-")
    try:
        return int(last) - int(first) + 1 if first and last else -1
    except ValueError:
        return -1


def _composite(algorithm: str | None, chosen: list[tuple[int, dict[str, Any]]]) -> dict[str, str]:
    """The checksum of the parts' checksums, `-N` (AWS's COMPOSITE type), when the upload named an algorithm."""
    if not algorithm:
        return {}
    combined = hasher(algorithm)
    for _, part in chosen:
        value = (part.get("checksums") or {}).get(algorithm)
        if value is None:
            return {}
        combined.update(base64.b64decode(value))
    return {algorithm: f"{encoded(combined.digest())}-{len(chosen)}"}
