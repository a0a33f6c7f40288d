"""S3 storage classes as reads see them: which are archived (GLACIER, DEEP_ARCHIVE: GetObject answers
InvalidObjectState until a RestoreObject's temporary copy is ready), how colder classes rank (lifecycle transitions
only move an object down AWS's waterfall), and the restore status a read reports (`x-amz-restore`).

Lamina keeps one copy of the bytes whatever the class: a class changes what reads answer, not where bytes live.
"""

from __future__ import annotations

import math
from typing import Any

from lamina.api.protocols.rest_xml import http_date
from lamina.services.s3.faults import S3Error

DAY = 86_400
# AWS's lifecycle waterfall: a transition goes only to a class further down (STANDARD → ... → DEEP_ARCHIVE)
RANK = {"STANDARD": 0, "REDUCED_REDUNDANCY": 0, "STANDARD_IA": 1, "INTELLIGENT_TIERING": 2, "ONEZONE_IA": 3,
        "GLACIER_IR": 4, "GLACIER": 5, "DEEP_ARCHIVE": 6}  # fmt: skip
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# (class, retrieval tier) → hours until a restored copy is readable (the longest of AWS's stated ranges)
RESTORE_HOURS = {("GLACIER", "Expedited"): 5 / 60, ("GLACIER", "Standard"): 5.0, ("GLACIER", "Bulk"): 12.0,
                 ("DEEP_ARCHIVE", "Standard"): 12.0, ("DEEP_ARCHIVE", "Bulk"): 48.0}  # fmt: skip


def midnight_after(start: float, days: int) -> float:
    """`days` after `start`, rounded up to the next UTC midnight (AWS's lifecycle and restore expiry rounding)."""
    return math.ceil((start + days * DAY) / DAY) * DAY


def storage_class(body: dict[str, Any]) -> str:
    return str(body.get("storage_class") or "STANDARD")


def restored(body: dict[str, Any], now: float) -> bool:
    restore = body.get("restore")
    if not restore:
        return False
    return bool(restore["ready"] <= now < restore["expires"])


def check_readable(body: dict[str, Any], now: float) -> None:
    """Raises AWS's InvalidObjectState for an archived object without a ready restored copy."""
    cls = storage_class(body)
    if cls in ARCHIVED and not restored(body, now):
        raise S3Error("InvalidObjectState", "The operation is not valid for the object's storage class", 403,
                      StorageClass=cls)  # fmt: skip


def check_copyable(body: dict[str, Any], now: float) -> None:
    """The same for the source of CopyObject / UploadPartCopy, in S3's words for a copy source."""
    if storage_class(body) in ARCHIVED and not restored(body, now):
        raise S3Error("InvalidObjectState", "Operation is not valid for the source object's storage class", 403)


def restore_status(body: dict[str, Any], now: float) -> str | None:
    """The `x-amz-restore` header of a read: a restore in progress, or the restored copy's expiry."""
    restore = body.get("restore")
    if not restore or now >= restore["expires"]:
        return None
    if now < restore["ready"]:
        return 'ongoing-request="true"'
    return f'ongoing-request="false", expiry-date="{http_date(restore["expires"])}"'
