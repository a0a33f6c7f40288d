"""Lifecycle Transitions and NoncurrentVersionTransitions applied by the sweep in virtual time (ManualClock, the real
store on a temporary database), seen through the provider's HeadObject/GetObject/ListObjectsV2 answers: the class
changes at AWS's rounded midnights, only down the waterfall, objects under 128 KB stay unless the configuration
lets them go to the Glacier classes, each transition told as s3:LifecycleTransition; a GLACIER object then needs a
RestoreObject (ready after the tier's time, expiring Days later) before GetObject reads it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lamina.clock import ManualClock
from lamina.services.s3.engine import S3Engine, Upload
from lamina.services.s3.faults import S3Error
from lamina.services.s3.lifecycle import DAY, Lifecycle, check
from lamina.services.s3.provider import S3Provider
from lamina.services.s3.restore_api import RestoreApi
from lamina.services.s3.storage import ObjectFiles
from lamina.store.documents import SqliteStore
from lamina.store.s3_sqlite import S3Store
from lamina.types import CallContext

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z
BUCKET = "b-transitions"
BIG = b"x" * (128 * 1024)
CTX = CallContext("us-east-1", "000000000000", "req", "http://localhost")


def _engine(folder: Path, clock: ManualClock, rules: list[dict[str, Any]], **settings: Any) -> S3Engine:
    SqliteStore(folder / "lamina.db").close()  # migrates
    engine = S3Engine(S3Store(folder / "lamina.db"), ObjectFiles(folder / "s3"), clock, "us-east-1")
    engine.load()
    engine.create_bucket(BUCKET, "us-east-1")
    notification = {"QueueConfigurations": [{"Id": "c", "QueueArn": QUEUE, "Events": ["s3:LifecycleTransition"]}]}
    engine.update_bucket(BUCKET, lifecycle=check({"Rules": rules}), notification=notification, **settings)
    return engine


def _told(engine: S3Engine) -> list[tuple[str, str]]:
    found = []
    for outgoing_id, body in engine.store.outgoing():
        record = body["message"]["Records"][0]
        found.append((record["eventName"], record["s3"]["object"]["key"]))
        engine.store.remove_outgoing(outgoing_id)
    return found


def _listed(provider: S3Provider) -> dict[str, str]:
    listing = provider.list_objects_v2(CTX, {"Bucket": BUCKET})
    return {entry["Key"]: entry["StorageClass"] for entry in listing["Contents"]}


def test_transitions_days_and_the_waterfall(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT + 10 * 3600)  # 10:00 UTC: Days count to the midnight after
        rules = [{"ID": "tiers", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                                  {"Days": 90, "StorageClass": "GLACIER"}]}]  # fmt: skip
        engine = _engine(tmp_path, clock, rules)
        provider = S3Provider(engine)
        await engine.put_object(BUCKET, "logs/big", BIG, Upload())
        await engine.put_object(BUCKET, "logs/small", b"tiny", Upload())  # under 128 KB: stays
        await engine.put_object(BUCKET, "other/big", BIG, Upload())  # not selected
        await engine.put_object(BUCKET, "logs/deep", BIG, Upload(storage_class="DEEP_ARCHIVE"))  # never warmer
        lifecycle = Lifecycle(engine, clock)
        clock.advance(MIDNIGHT + 31 * DAY - clock.time() - 1)  # a second before the 30th day's midnight
        assert await lifecycle.sweep() == 0
        clock.advance(1)
        assert await lifecycle.sweep() == 1
        assert _listed(provider) == {"logs/big": "STANDARD_IA", "logs/small": "STANDARD", "other/big": "STANDARD",
                                     "logs/deep": "DEEP_ARCHIVE"}  # fmt: skip
        assert provider.head_object(CTX, {"Bucket": BUCKET, "Key": "logs/big"})["StorageClass"] == "STANDARD_IA"
        assert provider.get_object(CTX, {"Bucket": BUCKET, "Key": "logs/big"})["StorageClass"] == "STANDARD_IA"
        assert _told(engine) == [("LifecycleTransition", "logs/big")]
        assert await lifecycle.sweep() == 0  # applied once
        clock.advance(60 * DAY)
        assert await lifecycle.sweep() == 1
        assert _listed(provider)["logs/big"] == "GLACIER"
        assert "StorageClass" not in provider.head_object(CTX, {"Bucket": BUCKET, "Key": "other/big"})  # STANDARD
        with pytest.raises(S3Error) as archived:
            provider.get_object(CTX, {"Bucket": BUCKET, "Key": "logs/big"})
        assert (archived.value.code, archived.value.status) == ("InvalidObjectState", 403)
        assert archived.value.message == "The operation is not valid for the object's storage class"
        assert archived.value.fields == {"StorageClass": "GLACIER"}
        assert lifecycle.stats["transitioned"] == 2

    asyncio.run(scenario())


def test_small_objects_and_size_filters(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT)
        rules = [{"ID": "glacier", "Status": "Enabled", "Filter": {"Prefix": "a/"},
                  "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
                 {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": "b/"},
                  "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"}]},
                 {"ID": "sized", "Status": "Enabled", "Filter": {"And": {"Prefix": "c/", "ObjectSizeGreaterThan": 1}},
                  "Transitions": [{"Days": 1, "StorageClass": "ONEZONE_IA"}]}]  # fmt: skip
        engine = _engine(tmp_path, clock, rules, lifecycle_minimum_size="varies_by_storage_class")
        for key in ("a/small", "b/small", "c/small"):
            await engine.put_object(BUCKET, key, b"small", Upload())
        clock.advance(DAY)
        assert await Lifecycle(engine, clock).sweep() == 2
        assert _listed(S3Provider(engine)) == {"a/small": "GLACIER", "b/small": "STANDARD", "c/small": "ONEZONE_IA"}

    asyncio.run(scenario())


def test_noncurrent_version_transitions(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT)
        rules = [{"ID": "old", "Status": "Enabled", "Filter": {},
                  "NoncurrentVersionTransitions": [{"NoncurrentDays": 5, "StorageClass": "DEEP_ARCHIVE",
                                                    "NewerNoncurrentVersions": 1}]}]  # fmt: skip
        engine = _engine(tmp_path, clock, rules, versioning="Enabled")
        for _ in range(3):  # v1, v2 noncurrent from now on; v3 current
            await engine.put_object(BUCKET, "k", BIG, Upload())
        lifecycle = Lifecycle(engine, clock)
        clock.advance(5 * DAY - 1)
        assert await lifecycle.sweep() == 0
        clock.advance(1)
        assert await lifecycle.sweep() == 1  # v1 only: v2 is the one newer noncurrent version spared
        classes = [r.body.get("storage_class", "STANDARD") for r in engine.version_rows(BUCKET, "k")]
        assert classes == ["STANDARD", "STANDARD", "DEEP_ARCHIVE"]  # newest first
        assert _told(engine) == [("LifecycleTransition", "k")]

    asyncio.run(scenario())


def test_restore_then_read(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT)
        rules = [
            {"ID": "cold", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}
        ]
        engine = _engine(tmp_path, clock, rules)
        provider, restores = S3Provider(engine), RestoreApi(engine)
        await engine.put_object(BUCKET, "k", BIG, Upload())
        await engine.put_object(BUCKET, "warm", b"w", Upload())
        clock.advance(DAY)
        assert await Lifecycle(engine, clock).sweep() == 1
        request = {
            "Bucket": BUCKET,
            "Key": "k",
            "RestoreRequest": {"Days": 2, "GlacierJobParameters": {"Tier": "Bulk"}},
        }
        assert await restores.restore_object(CTX, request) == {"_status": 202}
        with pytest.raises(S3Error) as twice:
            await restores.restore_object(CTX, request)
        assert (twice.value.code, twice.value.status) == ("RestoreAlreadyInProgress", 409)
        assert provider.head_object(CTX, {"Bucket": BUCKET, "Key": "k"})["Restore"] == 'ongoing-request="true"'
        with pytest.raises(S3Error):
            provider.get_object(CTX, {"Bucket": BUCKET, "Key": "k"})
        clock.advance(12 * 3600)  # Bulk: 12 hours
        got = provider.get_object(CTX, {"Bucket": BUCKET, "Key": "k"})
        assert got["StorageClass"] == "GLACIER"
        assert got["Restore"] == 'ongoing-request="false", expiry-date="Mon, 05 Jan 2026 00:00:00 GMT"'
        assert await restores.restore_object(CTX, request) == {"_status": 200}  # a ready copy: expiry moves
        clock.advance(3 * DAY)  # past the expiry: archived again
        assert "Restore" not in provider.head_object(CTX, {"Bucket": BUCKET, "Key": "k"})
        with pytest.raises(S3Error):
            provider.get_object(CTX, {"Bucket": BUCKET, "Key": "k"})
        with pytest.raises(S3Error) as warm:
            await restores.restore_object(CTX, {**request, "Key": "warm"})
        assert (warm.value.code, warm.value.message) == (
            "InvalidObjectState", "Restore is not allowed for the object's current storage class",
        )  # fmt: skip

    asyncio.run(scenario())
