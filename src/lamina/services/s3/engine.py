"""S3's behaviour: buckets, versioned objects and what writes them, independent of the wire.

A bucket's versioning is unset (one version per key, id "null"), Enabled (every write a new version, a
delete without a version id a delete marker) or Suspended (writes and deletes replace the "null" version).
Every write streams its body to a file, checks it (Content-MD5, x-amz-checksum-*), makes it durable, and only
then commits the row naming it; a file a replaced version named is removed after that commit.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from lamina.clock import Clock
from lamina.services.s3 import encryption
from lamina.services.s3.faults import S3Error, no_such_bucket, no_such_key, no_such_version
from lamina.services.s3.notifications import Notifications
from lamina.services.s3.storage import ObjectFiles, PendingFile
from lamina.store.s3_sqlite import Body, S3Store, VersionRow

BodySource = bytes | AsyncIterator[bytes]
MAX_KEY_BYTES = 1024
NULL = "null"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
# Content headers an object keeps and gives back: body field → wire member.
CONTENT_FIELDS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl", "Expires")


def valid_bucket_name(name: str) -> bool:
    """AWS's rules for new general-purpose buckets: 3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit,
    no `..`, not an IP address, none of the reserved prefixes and suffixes."""
    if not _BUCKET_NAME.match(name) or ".." in name or _IP.match(name):
        return False
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        return False
    return not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))


async def pieces(body: BodySource) -> AsyncIterator[bytes]:
    if isinstance(body, bytes | bytearray):
        if body:
            yield bytes(body)
        return
    async for piece in body:
        yield piece


@dataclass
class Upload:
    """What a write brings besides its bytes."""

    content: dict[str, Any] = field(default_factory=dict)  # CONTENT_FIELDS present
    metadata: dict[str, str] = field(default_factory=dict)
    content_md5: str | None = None  # base64, as the header carries it
    checksums: dict[str, str | None] = field(default_factory=dict)  # algorithm → expected value (None: compute)
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    content_sha256: str | None = None  # the hex X-Amz-Content-Sha256 a signed request claims for its body
    acl: list[dict[str, Any]] | None = None  # grants an x-amz-acl / x-amz-grant-* header set (acl.py)
    encryption: dict[str, Any] | None = None  # x-amz-server-side-encryption* asked for; None: the bucket's default


def key_check(key: str) -> None:
    size = len(key.encode())
    if size > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", 400, MaxSizeAllowed=MAX_KEY_BYTES, Size=size)


class S3Engine:
    def __init__(
        self, store: S3Store, files: ObjectFiles, clock: Clock, region: str, account: str = "000000000000"
    ) -> None:
        self.store = store
        self.files = files
        self._clock = clock
        self.region = region
        self.notifications = Notifications(store, None, region, account)  # app.py gives it its targets
        self._buckets: dict[str, Body] = {}
        self._seq = 0

    def load(self) -> None:
        self._buckets = self.store.buckets()
        self._seq = self.store.next_seq()
        self.files.sweep(self.store.files())

    def now(self) -> float:
        return self._clock.time()

    # -- buckets --------------------------------------------------------------------------------
    def bucket(self, name: str) -> Body:
        found = self._buckets.get(name)
        if found is None:
            raise no_such_bucket(name)
        return found

    def buckets(self) -> list[tuple[str, Body]]:
        return sorted(self._buckets.items())

    def create_bucket(self, name: str, region: str, **settings: Any) -> bool:
        """False when the caller already owns it in us-east-1 (AWS answers 200 there, for old clients)."""
        if not valid_bucket_name(name):
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", 400, BucketName=name)
        if name in self._buckets:
            if region == "us-east-1" and self._buckets[name]["region"] == "us-east-1":
                return False
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                409,
                BucketName=name,
            )
        body: Body = {"region": region, "created": self._clock.time(), "versioning": None, "tags": None, **settings}
        self.store.put_bucket(name, body)
        self._buckets[name] = body
        return True

    def delete_bucket(self, name: str) -> None:
        self.bucket(name)
        if self.store.bucket_has_versions(name) or self.store.bucket_has_uploads(name):
            raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=name)
        self.store.delete_bucket(name)
        del self._buckets[name]

    def update_bucket(self, name: str, **changes: Any) -> None:
        body = {**self.bucket(name), **changes}
        self.store.put_bucket(name, body)
        self._buckets[name] = body

    # -- writing objects ------------------------------------------------------------------------
    def _new_version_id(self, bucket: Body) -> str:
        return secrets.token_urlsafe(24) if bucket["versioning"] == "Enabled" else NULL

    async def receive(self, body: BodySource, upload: Upload, pending: PendingFile | None = None) -> PendingFile:
        """Streams `body` into a new file and checks it against what the request said; the file is not yet
        durable (commit it) and is discarded on any failure."""
        pending = pending or self.files.begin()
        try:
            pending.hash_with(upload.checksums)
            if upload.content_sha256 is not None:
                pending.hash_sha256()
            async for piece in pieces(body):
                pending.write(piece)
            self._verify(pending, upload)
        except BaseException:
            pending.discard()
            raise
        return pending

    def _verify(self, pending: PendingFile, upload: Upload) -> None:
        import base64

        if upload.content_md5 is not None:
            try:
                expected = base64.b64decode(upload.content_md5, validate=True)
            except ValueError:
                expected = b""
            if len(expected) != 16:
                raise S3Error.named(
                    "InvalidDigest",
                    "The Content-MD5 you specified is not valid.",
                    400,
                    {"Content-MD5": upload.content_md5},
                )
            if expected != pending.md5:
                raise S3Error(
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                    400,
                    ExpectedDigest=expected.hex(),
                    CalculatedDigest=base64.b64encode(pending.md5).decode(),
                )
        claimed = upload.content_sha256
        if claimed is not None and pending.sha256_hex() != claimed:  # the signature covered this claim
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
                ClientComputedContentSHA256=claimed,
                S3ComputedContentSHA256=pending.sha256_hex(),
            )
        computed = pending.checksums()
        for algorithm, value in upload.checksums.items():
            if value is not None and computed.get(algorithm) != value:
                raise S3Error("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)

    async def put_object(
        self,
        bucket_name: str,
        key: str,
        body: BodySource,
        upload: Upload,
        request_id: str = "",
        event: str = "ObjectCreated:Put",
    ) -> VersionRow:
        bucket = self.bucket(bucket_name)
        key_check(key)
        pending = await self.receive(body, upload)
        try:
            written = await pending.commit()
        except BaseException:
            pending.discard()
            raise
        doc: Body = {
            "size": written.size,
            "etag": f'"{written.md5.hex()}"',
            "file": written.file,
            "checksums": {k: v for k, v in written.checksums.items()},
        }
        return self.commit_object(bucket_name, bucket, key, doc, upload, event, request_id)

    def commit_object(
        self,
        bucket_name: str,
        bucket: Body,
        key: str,
        doc: Body,
        upload: Upload,
        event: str = "ObjectCreated:Put",
        request_id: str = "",
    ) -> VersionRow:
        doc.update(
            modified=self._clock.time(),
            content={k: v for k, v in upload.content.items() if v is not None},
            metadata=upload.metadata,
            storage_class=upload.storage_class,
        )
        if upload.tags:
            doc["tags"] = upload.tags
        if upload.acl is not None:
            doc["acl"] = upload.acl
        doc["encryption"] = upload.encryption or encryption.for_object(bucket, {})
        try:
            return self._add_version(bucket_name, bucket, key, doc, event, request_id)
        except BaseException:
            self.files.remove(doc.get("file"))
            raise

    def _add_version(
        self, bucket_name: str, bucket: Body, key: str, doc: Body, event: str, request_id: str
    ) -> VersionRow:
        """Commits `doc` as the newest version of `key` with the notifications it makes; a "null" version it
        replaces goes with its file."""
        version_id = self._new_version_id(bucket)
        self._seq += 1
        row = VersionRow(key, self._seq, version_id, True, doc)
        replaced = self.store.version(bucket_name, key, NULL) if version_id == NULL else None
        told = None if bucket["versioning"] is None else version_id
        outgoing = self._outgoing(bucket_name, bucket, event, key, doc, told, request_id)
        with self.store.transaction():
            if replaced is not None:
                self.store.remove_version(bucket_name, key, replaced.seq)
            self.store.add_version(bucket_name, row)
            self.store.add_outgoing(outgoing)
        if outgoing:
            self.notifications.queued()
        if replaced is not None:
            self.files.remove(replaced.body.get("file"))
        return row

    def _outgoing(
        self, bucket_name: str, bucket: Body, event: str, key: str, doc: Body | None, version: str | None, rid: str
    ) -> list[Body]:
        return self.notifications.outgoing(
            bucket_name, bucket, event, key, doc, version, f"{self._seq:016X}", rid, self._clock.time()
        )

    async def copy(
        self, source: VersionRow, bucket_name: str, key: str, upload: Upload, request_id: str = ""
    ) -> VersionRow:
        """A new version of `key` with `source`'s bytes (a link to its immutable file) and `upload`'s headers."""
        bucket = self.bucket(bucket_name)
        doc: Body = {k: source.body[k] for k in ("size", "etag", "checksums", "parts") if k in source.body}
        file = source.body.get("file")
        doc["file"] = self.files.link(file) if file else None
        return self.commit_object(bucket_name, bucket, key, doc, upload, "ObjectCreated:Copy", request_id)

    # -- reading objects ------------------------------------------------------------------------
    def find(self, bucket_name: str, key: str, version_id: str | None = None) -> VersionRow:
        """The version asked for (the latest when no id); a delete marker is the caller's to refuse."""
        self.bucket(bucket_name)
        if version_id is not None:
            row = self.store.version(bucket_name, key, version_id)
            if row is None:
                if version_id != NULL and not _VERSION_ID.match(version_id):
                    raise S3Error("InvalidArgument", "Invalid version id specified", 400,
                                  ArgumentName="versionId", ArgumentValue=version_id)  # fmt: skip
                raise no_such_version(key, version_id)
            return row
        row = self.store.latest(bucket_name, key)
        if row is None:
            raise no_such_key(key)
        return row

    def readable(self, bucket_name: str, key: str, version_id: str | None, method: str) -> VersionRow:
        row = self.find(bucket_name, key, version_id)
        if row.body.get("delete_marker"):
            headers = [("x-amz-delete-marker", "true")]
            if version_id is None:
                if row.version_id != NULL:
                    headers.append(("x-amz-version-id", row.version_id))
                raise no_such_key(key, headers)
            headers.append(("x-amz-version-id", row.version_id))
            raise S3Error(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                headers,
                Method=method,
                ResourceType="DeleteMarker",
            )
        return row

    async def object_bytes(self, bucket_name: str, key: str, version_id: str | None) -> bytes:
        """An object's whole bytes (Lambda's Code.S3Bucket/S3Key: packages are read whole anyway)."""
        row = self.readable(bucket_name, key, version_id, "GET")
        file = row.body.get("file")
        if not file:
            return b""
        try:
            return await asyncio.to_thread(self.files.path(file).read_bytes)
        except FileNotFoundError:  # replaced or deleted while being read
            raise no_such_key(key) from None

    # -- deleting objects -----------------------------------------------------------------------
    def delete_object(
        self, bucket_name: str, key: str, version_id: str | None, request_id: str = ""
    ) -> tuple[str | None, bool]:
        """(version id, whether it is/was a delete marker), as DeleteObject answers."""
        bucket = self.bucket(bucket_name)
        if version_id is not None:
            row = self.store.version(bucket_name, key, version_id)
            if row is None:
                if version_id != NULL and not _VERSION_ID.match(version_id):
                    raise S3Error("InvalidArgument", "Invalid version id specified", 400,
                                  ArgumentName="versionId", ArgumentValue=version_id)  # fmt: skip
                return version_id, False
            self._remove(bucket_name, bucket, row, version_id, request_id)
            return version_id, bool(row.body.get("delete_marker"))
        if bucket["versioning"] is None:
            row = self.store.latest(bucket_name, key)
            if row is not None:
                self._remove(bucket_name, bucket, row, None, request_id)
            return None, False
        marker = self._add_version(bucket_name, bucket, key, {"delete_marker": True, "modified": self._clock.time()},
                                   "ObjectRemoved:DeleteMarkerCreated", request_id)  # fmt: skip
        return marker.version_id, True

    def update_object(self, bucket_name: str, row: VersionRow, changes: Body, event: str, request_id: str) -> None:
        """A version's ACL or tags changed (`changes`; None values removed), committed with the notifications of
        `event` (`ObjectAcl:Put`, `ObjectTagging:Put`, ...)."""
        bucket = self.bucket(bucket_name)
        body = {k: v for k, v in {**row.body, **changes}.items() if v is not None}
        told = None if bucket["versioning"] is None else row.version_id
        outgoing = self._outgoing(bucket_name, bucket, event, row.key, body, told, request_id)
        with self.store.transaction():
            self.store.update_version(bucket_name, row.key, row.seq, body)
            self.store.add_outgoing(outgoing)
        if outgoing:
            self.notifications.queued()

    def expire_version(self, bucket_name: str, row: VersionRow) -> None:
        """Lifecycle: one version (or delete marker) removed for good, told as `LifecycleExpiration:Delete`."""
        bucket = self.bucket(bucket_name)
        told = None if bucket["versioning"] is None else row.version_id
        self._remove(bucket_name, bucket, row, told, "", "LifecycleExpiration:Delete")

    def expire_current(self, bucket_name: str, key: str) -> None:
        """Lifecycle on a versioned bucket: the current version expires behind a new delete marker."""
        bucket = self.bucket(bucket_name)
        self._add_version(bucket_name, bucket, key, {"delete_marker": True, "modified": self._clock.time()},
                          "LifecycleExpiration:DeleteMarkerCreated", "")  # fmt: skip

    def _remove(
        self,
        bucket_name: str,
        bucket: Body,
        row: VersionRow,
        told: str | None,
        request_id: str,
        event: str = "ObjectRemoved:Delete",
    ) -> None:
        self._seq += 1
        outgoing = self._outgoing(bucket_name, bucket, event, row.key, None, told, request_id)
        with self.store.transaction():
            self.store.remove_version(bucket_name, row.key, row.seq)
            self.store.add_outgoing(outgoing)
        if outgoing:
            self.notifications.queued()
        self.files.remove(row.body.get("file"))

    # -- listing --------------------------------------------------------------------------------
    def list_latest(
        self, bucket_name: str, prefix: str, delimiter: str, max_keys: int, after: str
    ) -> tuple[list[VersionRow], list[str], bool, str]:
        """(objects, common prefixes, truncated, last key or prefix returned) of the current versions."""
        self.bucket(bucket_name)
        rows = (r for r in self.store.scan_latest(bucket_name, prefix, after) if not r.body.get("delete_marker"))
        return _group(rows, prefix, delimiter, max_keys, after)

    def list_versions(
        self, bucket_name: str, prefix: str, delimiter: str, max_keys: int, key_marker: str, version_marker: str
    ) -> tuple[list[VersionRow], list[str], bool, tuple[str, str]]:
        self.bucket(bucket_name)
        rows = self.store.scan_versions(bucket_name, prefix, key_marker)

        def after_markers() -> Iterator[VersionRow]:
            skipping = bool(version_marker)
            for row in rows:
                if row.key == key_marker:
                    if not skipping:
                        continue
                    if row.version_id == version_marker:
                        skipping = False
                    continue
                yield row

        found: list[VersionRow] = []
        prefixes: list[str] = []
        last = ("", "")
        for row in after_markers():
            common = _common_prefix(row.key, prefix, delimiter)
            if common is not None:
                if prefixes and prefixes[-1] == common:
                    continue
                if len(found) + len(prefixes) >= max_keys:
                    return found, prefixes, True, last
                prefixes.append(common)
                last = (common, "")
                continue
            if len(found) + len(prefixes) >= max_keys:
                return found, prefixes, True, last
            found.append(row)
            last = (row.key, row.version_id)
        return found, prefixes, False, last

    def version_rows(self, bucket_name: str, key: str) -> list[VersionRow]:
        return self.store.versions_of(bucket_name, key)


_VERSION_ID = re.compile(r"^[A-Za-z0-9_.\-]{32}$")


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def _group(
    rows: Iterator[VersionRow], prefix: str, delimiter: str, max_keys: int, after: str
) -> tuple[list[VersionRow], list[str], bool, str]:
    found: list[VersionRow] = []
    prefixes: list[str] = []
    last = ""
    for row in rows:
        common = _common_prefix(row.key, prefix, delimiter)
        if common is not None:
            if (prefixes and prefixes[-1] == common) or common == after:
                continue
            if after.startswith(common):
                continue
            if len(found) + len(prefixes) >= max_keys:
                return found, prefixes, True, last
            prefixes.append(common)
            last = common
            continue
        if len(found) + len(prefixes) >= max_keys:
            return found, prefixes, True, last
        found.append(row)
        last = row.key
    return found, prefixes, False, last
