"""S3 lifecycle: the configuration through boto3 and the aws CLI against a real server (AWS's validation errors,
nothing stored when refused), and the sweep in virtual time (ManualClock, the real store on a temporary database):
expirations at AWS's rounded midnights, versioned buckets' delete markers, noncurrent versions, expired delete
markers, aborted uploads, each expiration told as s3:LifecycleExpiration:* notifications."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lamina.clock import ManualClock
from lamina.services.s3.engine import S3Engine, Upload
from lamina.services.s3.lifecycle import DAY, SWEEP_SECONDS, Lifecycle, check, due
from lamina.services.s3.notifications import Targets
from lamina.services.s3.storage import ObjectFiles
from lamina.store.documents import SqliteStore
from lamina.store.s3_sqlite import S3Store
from tests.aws_cli import json_runner
from tests.server import LaminaProcess

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _error(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _rule(**extra: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, **extra}


# -- the configuration on the wire ----------------------------------------------------------------
def test_put_get_delete(s3: Any, bucket: str) -> None:
    assert _error(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)) == (
        "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist",
    )  # fmt: skip
    rules = [
        _rule(Expiration={"Days": 30}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7}),
        {"ID": "tagged", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 10}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2}},
        {"ID": "dated", "Status": "Enabled", "Filter": {"Tag": {"Key": "a", "Value": "b"}},
         "Expiration": {"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)}},
        {"ID": "markers", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]  # fmt: skip
    put = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    assert [r["ID"] for r in got["Rules"]] == ["r", "tagged", "dated", "markers"]
    assert got["Rules"][0]["Expiration"] == {"Days": 30}
    assert got["Rules"][0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert got["Rules"][1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got["Rules"][1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2}
    assert got["Rules"][2]["Expiration"]["Date"] == datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    assert got["Rules"][3]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    unnamed = {"Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [unnamed]})
    [named] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(named["ID"]) == 48  # AWS names a rule without an ID itself
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert _error(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket))[0] == "NoSuchLifecycleConfiguration"


@pytest.mark.parametrize(
    ("rules", "code", "message"),
    [
        ([_rule()], "InvalidRequest", "At least one action needs to be specified in a rule"),
        ([_rule(Expiration={"Days": 0})], "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
        ([_rule(Expiration={"Date": datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.UTC)})], "InvalidArgument",
         "'Date' must be at midnight GMT"),
        ([_rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})], "MalformedXML", None),
        ([_rule(ID="x" * 256, Expiration={"Days": 1})], "InvalidArgument",
         "ID length should not exceed allowed limit of 255"),
        ([_rule(Expiration={"Days": 1}), _rule(Expiration={"Days": 2})], "InvalidArgument",
         "Rule ID must be unique. Found same ID for more than one rule"),
        ([_rule(NoncurrentVersionExpiration={"NoncurrentDays": -1})], "InvalidArgument",
         "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
        ([_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})], "InvalidArgument",
         "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"),
        ([{"ID": "t", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
           "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}], "InvalidRequest",
         "AbortIncompleteMultipartUpload cannot be specified with Tags."),
        ([{"ID": "t", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 5},
           "Expiration": {"ExpiredObjectDeleteMarker": True}}], "InvalidRequest",
         "ExpiredObjectDeleteMarker cannot be specified with Object Size."),
        ([{"ID": "t", "Status": "Enabled", "Filter": {"And": {"ObjectSizeGreaterThan": 9, "ObjectSizeLessThan": 3}},
           "Expiration": {"Days": 1}}], "InvalidRequest",
         "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."),
        ([{"ID": "t", "Status": "Enabled", "Filter": {"And": {"Tags": [{"Key": "k", "Value": "1"},
           {"Key": "k", "Value": "2"}]}}, "Expiration": {"Days": 1}}], "InvalidRequest",
         "Duplicate Tag Keys are not allowed."),
        ([{"ID": "t", "Status": "Enabled", "Expiration": {"Days": 1}}], "MalformedXML", None),
        ([_rule(Expiration={"Days": 1}), {"ID": "v1", "Status": "Enabled", "Prefix": "a/", "Expiration": {"Days": 1}}],
         "InvalidRequest",
         "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."),
    ],
)  # fmt: skip
def test_validation_errors(s3: Any, bucket: str, rules: list[dict[str, Any]], code: str, message: str | None) -> None:
    got = _error(lambda: s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules}))
    assert got[0] == code
    if message is not None:
        assert got[1] == message
    assert _error(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket))[0] == "NoSuchLifecycleConfiguration"


def test_aws_cli_lifecycle(lamina: LaminaProcess, s3: Any, bucket: str, tmp_path: Path) -> None:
    aws = json_runner(tmp_path, lamina.url)
    config = {"Rules": [{"ID": "old-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                         "Expiration": {"Days": 7}}]}  # fmt: skip
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", json.dumps(config))  # fmt: skip
    got = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert got["Rules"] == config["Rules"]
    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    assert "NoSuchLifecycleConfiguration" in aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket,
                                                 ok=False)  # fmt: skip


# -- the sweep in virtual time ------------------------------------------------------------------
def _engine(folder: Path, clock: ManualClock) -> S3Engine:
    SqliteStore(folder / "lamina.db").close()  # migrates
    engine = S3Engine(S3Store(folder / "lamina.db"), ObjectFiles(folder / "s3"), clock, "us-east-1")
    engine.load()
    return engine


def _bucket(engine: S3Engine, rules: list[dict[str, Any]], versioning: str | None = None) -> None:
    engine.create_bucket("b-lifecycle", "us-east-1")
    events = ["s3:LifecycleExpiration:*", "s3:ObjectRemoved:*"]
    notification = {"QueueConfigurations": [{"Id": "c", "QueueArn": QUEUE, "Events": events}]}
    engine.update_bucket(
        "b-lifecycle", versioning=versioning, lifecycle=check({"Rules": rules}), notification=notification
    )


def _told(engine: S3Engine) -> list[tuple[str, str]]:
    """(eventName, key) of the notifications in the outbox, emptied."""
    found = []
    for outgoing_id, body in engine.store.outgoing():
        record = body["message"]["Records"][0]
        found.append((record["eventName"], record["s3"]["object"]["key"]))
        engine.store.remove_outgoing(outgoing_id)
    return found


def _keys(engine: S3Engine) -> list[str]:
    return [r.key for r in engine.list_latest("b-lifecycle", "", "", 1000, "")[0]]


def test_expiration_days_rounds_to_midnight(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT + 10 * 3600)  # 2026-01-01 10:00 UTC
        engine = _engine(tmp_path, clock)
        _bucket(engine, [_rule(Expiration={"Days": 1})])
        await engine.put_object("b-lifecycle", "logs/a", b"a", Upload())
        await engine.put_object("b-lifecycle", "keep/b", b"b", Upload())
        lifecycle = Lifecycle(engine, clock)
        lifecycle.start()
        await clock.until_sleeping()
        assert due(clock.time(), 1) == MIDNIGHT + 2 * DAY  # 10:00 + 1 day, rounded up to the next midnight
        clock.advance(MIDNIGHT + 2 * DAY - clock.time() - SWEEP_SECONDS)  # the sweep just before that midnight
        await clock.until_sleeping()
        assert _keys(engine) == ["keep/b", "logs/a"]
        clock.advance(SWEEP_SECONDS)  # the sweep at the midnight
        await clock.until_sleeping()
        assert _keys(engine) == ["keep/b"]
        assert _told(engine) == [("LifecycleExpiration:Delete", "logs/a")]
        await lifecycle.close()

    asyncio.run(scenario())


def test_versioned_bucket_markers_and_noncurrent(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT)
        engine = _engine(tmp_path, clock)
        noncurrent = {"NoncurrentDays": 2, "NewerNoncurrentVersions": 1}
        markers = {"ExpiredObjectDeleteMarker": True}
        rules = [_rule(Expiration={"Days": 10}, NoncurrentVersionExpiration=noncurrent),
                 {"ID": "markers", "Status": "Enabled", "Filter": {}, "Expiration": markers}]  # fmt: skip
        _bucket(engine, rules, versioning="Enabled")
        for body in (b"v1", b"v2", b"v3"):  # v1 and v2 become noncurrent now
            await engine.put_object("b-lifecycle", "logs/x", body, Upload())
        lifecycle = Lifecycle(engine, clock)
        clock.advance(2 * DAY)
        assert await lifecycle.sweep() == 1  # v1 goes; v2 is the one newer noncurrent version kept
        assert [r.body["size"] for r in engine.version_rows("b-lifecycle", "logs/x")] == [2, 2]
        assert _told(engine) == [("LifecycleExpiration:Delete", "logs/x")]
        clock.advance(8 * DAY)  # v3 is 10 days old: a delete marker goes on top
        assert await lifecycle.sweep() == 1
        assert _keys(engine) == []
        rows = engine.version_rows("b-lifecycle", "logs/x")
        assert [bool(r.body.get("delete_marker")) for r in rows] == [True, False, False]
        assert _told(engine) == [("LifecycleExpiration:DeleteMarkerCreated", "logs/x")]
        clock.advance(2 * DAY)  # v2 is no longer the newest noncurrent version: it goes, v3 is kept
        assert await lifecycle.sweep() == 1
        rows = engine.version_rows("b-lifecycle", "logs/x")
        assert [(bool(r.body.get("delete_marker")), r.body.get("size")) for r in rows] == [(True, None), (False, 2)]
        engine.delete_object("b-lifecycle", "logs/x", rows[1].version_id)  # the user deletes v3 itself
        _told(engine)
        assert await lifecycle.sweep() == 1  # then the marker, the key's only version left, is removed
        assert engine.version_rows("b-lifecycle", "logs/x") == []
        assert _told(engine) == [("LifecycleExpiration:Delete", "logs/x")]
        await lifecycle.close()

    asyncio.run(scenario())


def test_filters_disabled_rules_and_uploads(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT)
        engine = _engine(tmp_path, clock)
        rules = [
            {"ID": "big-tagged", "Status": "Enabled", "Expiration": {"Days": 1},
             "Filter": {"And": {"Prefix": "t/", "Tags": [{"Key": "temp", "Value": "yes"}],
                                "ObjectSizeGreaterThan": 2}}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "off/"}, "Expiration": {"Days": 1}},
            {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "up/"},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
        ]  # fmt: skip
        _bucket(engine, rules)
        await engine.put_object("b-lifecycle", "t/big", b"12345", Upload(tags={"temp": "yes"}))
        await engine.put_object("b-lifecycle", "t/small", b"1", Upload(tags={"temp": "yes"}))
        await engine.put_object("b-lifecycle", "t/untagged", b"12345", Upload())
        await engine.put_object("b-lifecycle", "off/x", b"12345", Upload())
        engine.store.put_upload("u1", "b-lifecycle", "up/part", {"initiated": clock.time()})
        engine.store.put_upload("u2", "b-lifecycle", "other/part", {"initiated": clock.time()})
        lifecycle = Lifecycle(engine, clock)
        clock.advance(DAY)
        assert await lifecycle.sweep() == 1
        assert _keys(engine) == ["off/x", "t/small", "t/untagged"]
        clock.advance(2 * DAY)
        assert await lifecycle.sweep() == 1  # the upload under up/ is aborted, the other kept
        assert [u[0] for u in engine.store.uploads("b-lifecycle")] == ["u2"]
        assert _told(engine) == [("LifecycleExpiration:Delete", "t/big")]
        await lifecycle.close()

    asyncio.run(scenario())


def test_expiration_date_and_delivery(tmp_path: Path) -> None:
    """An Expiration Date takes every selected object once it has passed; the notification is delivered."""

    async def scenario() -> None:
        clock = ManualClock(MIDNIGHT - 3600)
        engine = _engine(tmp_path, clock)
        sent: list[dict[str, Any]] = []

        async def to_queue(arn: str, message: bytes) -> None:
            sent.append(json.loads(message))

        async def unused(*_: Any) -> None:
            raise AssertionError("not a target here")

        engine.notifications.targets = Targets(
            send_to_queue=to_queue, publish_to_topic=unused, invoke_async=unused,
            put_on_default_bus=lambda *_: None, queue_exists=lambda _: True, topic_exists=lambda _: True,
            may_invoke=lambda *_: True, refusal=lambda *_: None,
        )  # fmt: skip
        _bucket(engine, [_rule(Expiration={"Date": MIDNIGHT})])
        await engine.put_object("b-lifecycle", "logs/a", b"a", Upload())
        lifecycle = Lifecycle(engine, clock)
        assert await lifecycle.sweep() == 0
        clock.advance(3600)
        assert await lifecycle.sweep() == 1
        assert [r["Records"][0]["eventName"] for r in sent] == ["LifecycleExpiration:Delete"]
        await lifecycle.close()

    asyncio.run(scenario())
