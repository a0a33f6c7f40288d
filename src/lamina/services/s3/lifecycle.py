"""S3 lifecycle: a bucket's rules checked as AWS checks them (codes and messages as S3 answers), and applied by a
sweep on the project's clock.

What a sweep does, for each Enabled rule whose filter (Prefix, Tag, And, object size) selects an object:
- Expiration Days/Date: the current version expires at the first UTC midnight on or after `created + Days`
  (or at Date). Unversioned: the object is deleted (`s3:LifecycleExpiration:Delete`); versioned: a delete marker
  is added (`s3:LifecycleExpiration:DeleteMarkerCreated`).
- ExpiredObjectDeleteMarker: a delete marker that is a key's only version left is removed.
- NoncurrentVersionExpiration: a version NoncurrentDays after it became noncurrent (rounded the same way) is
  deleted, except the NewerNoncurrentVersions newest noncurrent ones.
- AbortIncompleteMultipartUpload: uploads DaysAfterInitiation old are aborted (no notification, as on AWS).
- Transitions Days/Date: the current version takes the coldest StorageClass whose time (rounded the same way) has
  come, if that is further down AWS's waterfall than its class now (storage_classes.RANK);
  NoncurrentVersionTransitions the same from when a version became noncurrent, sparing the NewerNoncurrentVersions
  newest noncurrent ones. Objects under 128 KB stay where they are unless the rule filters by object size
  (TransitionDefaultMinimumObjectSize `varies_by_storage_class` lets them go to GLACIER and DEEP_ARCHIVE). Each
  transition is told as `s3:LifecycleTransition`; the bytes stay where they are (one copy whatever the class), but
  reads answer as the class says (GLACIER/DEEP_ARCHIVE need RestoreObject before GetObject).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error, malformed_xml
from lamina.services.s3.storage_classes import ARCHIVED, RANK, midnight_after, storage_class
from lamina.store.s3_sqlite import VersionRow

DAY = 86_400
SWEEP_SECONDS = 3600.0  # how often lifecycle rules are applied
MAX_RULES = 1000
MAX_ID = 255
MAX_SIZE = 1099511627776000
SMALL = 128 * 1024  # objects under this do not transition by default (TransitionDefaultMinimumObjectSize)
_ACTIONS = ("Expiration", "Transitions", "NoncurrentVersionTransitions", "NoncurrentVersionExpiration",
            "AbortIncompleteMultipartUpload")  # fmt: skip


def _request(message: str) -> S3Error:
    return S3Error("InvalidRequest", message, 400)


def _argument(message: str) -> S3Error:
    return S3Error("InvalidArgument", message, 400)


def _positive(value: Any) -> bool:
    return isinstance(value, int) and value > 0


def check(config: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rules of a PutBucketLifecycleConfiguration, checked (the first fault is the answer), each with an ID."""
    rules = (config or {}).get("Rules") or []
    if not rules:
        raise _request("At least one lifecycle rule must be specified.")
    if len(rules) > MAX_RULES:
        raise _request("The number of lifecycle rules must not exceed the allowed limit of 1000 rules.")
    seen: set[str] = set()
    for rule in rules:
        rule_id = rule.get("ID")
        if rule_id:
            if len(rule_id) > MAX_ID:
                raise _argument("ID length should not exceed allowed limit of 255")
            if rule_id in seen:
                raise _argument("Rule ID must be unique. Found same ID for more than one rule")
            seen.add(rule_id)
    v2 = "Filter" in rules[0]
    return [_checked(rule, v2) for rule in rules]


def _checked(rule: dict[str, Any], v2: bool) -> dict[str, Any]:
    if rule.get("Status") not in ("Enabled", "Disabled"):
        raise malformed_xml()
    if "Prefix" not in rule and "Filter" not in rule:
        raise malformed_xml()
    if v2 and "Prefix" in rule:
        raise _request("Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.")
    if not v2 and "Filter" in rule:
        raise _request("Filter element can only be used in Lifecycle V2.")
    tags, sizes = _check_filter(rule.get("Filter")) if "Filter" in rule else (False, False)
    if not any(action in rule for action in _ACTIONS):
        raise _request("At least one action needs to be specified in a rule")
    expiration = rule.get("Expiration")
    if expiration is not None:
        given = [k for k in ("Date", "Days", "ExpiredObjectDeleteMarker") if expiration.get(k) is not None]
        if len(given) != 1:
            raise malformed_xml()
        if "Days" in given and not _positive(expiration["Days"]):
            raise _argument("'Days' for Expiration action must be a positive integer")
        if "Date" in given and float(expiration["Date"]) % DAY:
            raise _argument("'Date' must be at midnight GMT")
        if "ExpiredObjectDeleteMarker" in given and tags:
            raise _request("ExpiredObjectDeleteMarker cannot be specified with Tags.")
        if "ExpiredObjectDeleteMarker" in given and sizes:
            raise _request("ExpiredObjectDeleteMarker cannot be specified with Object Size.")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None:
        if noncurrent.get("NoncurrentDays") is None:
            raise malformed_xml()
        if not _positive(noncurrent["NoncurrentDays"]):
            raise _argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
        newer = noncurrent.get("NewerNoncurrentVersions")
        if newer is not None and not v2:
            raise _request("NewerNoncurrentVersions element can only be used in Lifecycle V2.")
        if newer is not None and not _positive(newer):
            raise _argument("'NewerNoncurrentVersions' must be a positive integer")
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        if abort.get("DaysAfterInitiation") is None:
            raise malformed_xml()
        if not _positive(abort["DaysAfterInitiation"]):
            raise _argument(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"
            )
        if tags:
            raise _request("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        if sizes:
            raise _request("AbortIncompleteMultipartUpload cannot be specified with Object Size.")
    out = {k: v for k, v in rule.items() if v is not None}
    if not out.get("ID"):
        out["ID"] = secrets.token_urlsafe(36)[:48]  # AWS names an unnamed rule itself
    return out


def _check_filter(given: dict[str, Any] | None) -> tuple[bool, bool]:
    """Whether the filter uses tags, and object sizes."""
    given = given or {}
    kinds = [k for k in ("Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in given]
    if len(kinds) > 1:
        raise malformed_xml()
    conditions = given.get("And") or given
    tags = list(conditions.get("Tags") or []) + ([given["Tag"]] if "Tag" in given else [])
    keys = [t.get("Key") for t in tags]
    if any(not k for k in keys):
        raise malformed_xml()
    if len(set(keys)) != len(keys):
        raise _request("Duplicate Tag Keys are not allowed.")
    larger, smaller = conditions.get("ObjectSizeGreaterThan"), conditions.get("ObjectSizeLessThan")
    if larger is not None and not 0 <= larger <= MAX_SIZE:
        raise _request("'ObjectSizeGreaterThan' should be between 0 and 1099511627776000.")
    if smaller is not None and not 1 <= smaller <= MAX_SIZE:
        raise _request("'ObjectSizeLessThan' should be between 1 and 1099511627776000.")
    if larger is not None and smaller is not None and smaller <= larger:
        raise _request("'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.")
    return bool(tags), larger is not None or smaller is not None


def selects(rule: dict[str, Any], key: str, size: int, tags: dict[str, str]) -> bool:
    """Whether the rule's filter (or V1 prefix) takes an object of this key, size and tags."""
    if "Filter" not in rule:
        return key.startswith(rule.get("Prefix") or "")
    given = rule["Filter"] or {}
    conditions = given.get("And") or given
    wanted = list(conditions.get("Tags") or []) + ([given["Tag"]] if "Tag" in given else [])
    larger, smaller = conditions.get("ObjectSizeGreaterThan"), conditions.get("ObjectSizeLessThan")
    return (
        key.startswith(conditions.get("Prefix") or "")
        and all(tags.get(t["Key"]) == t.get("Value", "") for t in wanted)
        and (larger is None or size > larger)
        and (smaller is None or size < smaller)
    )


def due(start: float, days: int) -> float:
    """AWS's expiry time: `days` after `start`, rounded up to the next UTC midnight."""
    return midnight_after(start, days)


def _sized(rule: dict[str, Any]) -> bool:
    """Whether the rule's filter names an object size (which then replaces the default 128 KB minimum)."""
    given = rule.get("Filter") or {}
    conditions = given.get("And") or given
    return any(conditions.get(k) is not None for k in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"))


def _target(
    rule: dict[str, Any], member: str, days_key: str, row: VersionRow, start: float, now: float, minimum: str
) -> str | None:
    """The coldest class one of the rule's `member` transitions (Transitions or NoncurrentVersionTransitions) has
    made due for `row`, counting `days_key` days from `start`."""
    found: str | None = None
    size = int(row.body.get("size", 0))
    for transition in rule.get(member) or []:
        target = transition.get("StorageClass")
        if target not in RANK:
            continue
        if transition.get("Date") is not None:
            when = float(transition["Date"])
        elif transition.get(days_key) is not None:
            when = due(start, int(transition[days_key]))
        else:
            continue
        small = size < SMALL and not _sized(rule)
        if small and not (minimum == "varies_by_storage_class" and target in ARCHIVED):
            continue
        if now >= when and (found is None or RANK[target] > RANK[found]):
            found = target
    return found


def _keys(rows: Iterator[VersionRow]) -> Iterator[list[VersionRow]]:
    """The versions of one key at a time, newest first."""
    group: list[VersionRow] = []
    for row in rows:
        if group and group[0].key != row.key:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


class Lifecycle:
    def __init__(self, engine: S3Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._sweeper: asyncio.Task[None] | None = None
        self.stats = {"expired": 0, "aborted": 0, "transitioned": 0}

    def start(self) -> None:
        self._sweeper = periodic.every(self._clock, SWEEP_SECONDS, self.sweep, "the S3 lifecycle sweep failed")

    async def close(self) -> None:
        await periodic.cancel(self._sweeper)
        self._sweeper = None

    async def sweep(self) -> int:
        """Applies every bucket's enabled rules once; how many versions and uploads it removed."""
        now = self._clock.time()
        done = 0
        for name, bucket in self._engine.buckets():
            rules = [r for r in (bucket.get("lifecycle") or []) if r.get("Status") == "Enabled"]
            if rules:
                done += self._bucket(name, bucket, rules, now)
        if done:
            await self._engine.notifications.deliver()
        return done

    def _bucket(self, name: str, bucket: dict[str, Any], rules: list[dict[str, Any]], now: float) -> int:
        versioned = bucket.get("versioning") is not None
        minimum = bucket.get("lifecycle_minimum_size") or "all_storage_classes_128K"
        current: list[VersionRow] = []  # expire (unversioned: delete; versioned: a delete marker on top)
        removed: list[VersionRow] = []  # versions and delete markers removed for good
        moved: list[tuple[VersionRow, str]] = []  # versions that transition, with their new class
        for group in _keys(self._engine.store.scan_versions(name, "", "")):
            latest = group[0]
            if not latest.latest:
                continue
            if latest.body.get("delete_marker"):
                if len(group) == 1 and any(
                    (r.get("Expiration") or {}).get("ExpiredObjectDeleteMarker") and selects(r, latest.key, 0, {})
                    for r in rules
                ):
                    removed.append(latest)
            elif any(self._expires(r, latest, now) for r in rules):
                current.append(latest)
            else:
                self._transition(rules, latest, None, float(latest.body["modified"]), now, minimum, moved)
            for index, row in enumerate(group[1:]):
                since = group[index].body["modified"]  # the version after it made it noncurrent
                if any(self._noncurrent_expires(r, row, index, since, now) for r in rules):
                    removed.append(row)
                elif not row.body.get("delete_marker"):
                    self._transition(rules, row, index, float(since), now, minimum, moved)
        for row in current:
            if versioned:
                self._engine.expire_current(name, row.key)
            else:
                self._engine.expire_version(name, row)
        for row in removed:
            self._engine.expire_version(name, row)
        for row, target in moved:  # a restored copy does not follow the object to another class
            self._engine.update_object(name, row, {"storage_class": target, "restore": None}, "LifecycleTransition", "")
        self.stats["expired"] += len(current) + len(removed)
        self.stats["transitioned"] += len(moved)
        return len(current) + len(removed) + len(moved) + self._abort_uploads(name, rules, now)

    @staticmethod
    def _transition(
        rules: list[dict[str, Any]],
        row: VersionRow,
        noncurrent_index: int | None,
        start: float,
        now: float,
        minimum: str,
        moved: list[tuple[VersionRow, str]],
    ) -> None:
        """Adds (row, class) to `moved` when a rule's transitions take the row further down the waterfall; a
        noncurrent version (its index among them, newest first) by NoncurrentVersionTransitions only."""
        best = storage_class(row.body)
        for rule in rules:
            if not selects(rule, row.key, int(row.body.get("size", 0)), row.body.get("tags") or {}):
                continue
            if noncurrent_index is None:
                target = _target(rule, "Transitions", "Days", row, start, now, minimum)
            else:
                members = rule.get("NoncurrentVersionTransitions") or []
                spared = [t for t in members if noncurrent_index < int(t.get("NewerNoncurrentVersions") or 0)]
                kept = {**rule, "NoncurrentVersionTransitions": [t for t in members if t not in spared]}
                target = _target(kept, "NoncurrentVersionTransitions", "NoncurrentDays", row, start, now, minimum)
            if target is not None and RANK[target] > RANK.get(best, 0):
                best = target
        if best != storage_class(row.body):
            moved.append((row, best))

    @staticmethod
    def _expires(rule: dict[str, Any], row: VersionRow, now: float) -> bool:
        expiration = rule.get("Expiration") or {}
        if expiration.get("Days") is None and expiration.get("Date") is None:
            return False
        if not selects(rule, row.key, int(row.body.get("size", 0)), row.body.get("tags") or {}):
            return False
        if expiration.get("Date") is not None:
            return now >= float(expiration["Date"])
        return now >= due(float(row.body["modified"]), int(expiration["Days"]))

    @staticmethod
    def _noncurrent_expires(rule: dict[str, Any], row: VersionRow, index: int, since: float, now: float) -> bool:
        noncurrent = rule.get("NoncurrentVersionExpiration") or {}
        if noncurrent.get("NoncurrentDays") is None or index < int(noncurrent.get("NewerNoncurrentVersions") or 0):
            return False
        if not selects(rule, row.key, int(row.body.get("size", 0)), row.body.get("tags") or {}):
            return False
        return now >= due(float(since), int(noncurrent["NoncurrentDays"]))

    def _abort_uploads(self, name: str, rules: list[dict[str, Any]], now: float) -> int:
        aborted = 0
        store = self._engine.store
        for upload_id, key, body in store.uploads(name):
            for rule in rules:
                days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
                if days is not None and selects(rule, key, 0, {}) and now >= due(float(body["initiated"]), days):
                    parts = store.parts(upload_id)
                    store.delete_upload(upload_id)
                    for part in parts.values():
                        self._engine.files.remove(part.get("file"))
                    aborted += 1
                    break
        self.stats["aborted"] += aborted
        return aborted
