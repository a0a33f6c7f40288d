"""EventBridge archives and replays through boto3 and the aws CLI against a real server: the archive keeps the
matching events of its bus (not replayed ones), a replay re-sends a time window to the bus's rules (FilterArns
narrows them) with `replay-name`, AWS's errors and messages (from AWS-validated recordings), and archived events
survive a restart. Retention is a sweep on the project's clock (a unit test with ManualClock)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lamina.clock import ManualClock
from lamina.services.events.archives import SWEEP_SECONDS, Archive, Archives
from lamina.services.events.engine import EventsEngine
from lamina.store.documents import SqliteStore
from tests.aws_cli import json_runner
from tests.events.conftest import drain
from tests.server import LaminaProcess

PATTERN = json.dumps({"source": ["shop"]})


def _put(events: Any, bus: str, n: int, source: str = "shop") -> None:
    entry = {"Source": source, "DetailType": "order", "Detail": json.dumps({"n": n}), "EventBusName": bus}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def _error(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _bus_arn(name: str) -> str:
    return f"arn:aws:events:us-east-1:000000000000:event-bus/{name}"


def _until_state(events: Any, replay: str, state: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = events.describe_replay(ReplayName=replay)
        if described["State"] == state or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_archive_crud_and_errors(events: Any, make_bus: Any) -> None:
    bus = make_bus()
    name = f"arch-{uuid.uuid4().hex[:8]}"
    created = events.create_archive(
        ArchiveName=name, EventSourceArn=_bus_arn(bus), EventPattern=PATTERN, Description="d", RetentionDays=1
    )
    assert created["ArchiveArn"] == f"arn:aws:events:us-east-1:000000000000:archive/{name}"
    assert created["State"] == "ENABLED" and "CreationTime" in created
    assert _error(lambda: events.create_archive(ArchiveName=name, EventSourceArn=_bus_arn(bus))) == (
        "ResourceAlreadyExistsException",
        f"Archive {name} already exists.",
    )
    assert _error(lambda: events.create_archive(ArchiveName="x" + name, EventSourceArn=_bus_arn("nope"))) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )
    code, _ = _error(
        lambda: events.create_archive(ArchiveName="y" + name, EventSourceArn=_bus_arn(bus), EventPattern="{")
    )
    assert code == "InvalidEventPatternException"
    described = events.describe_archive(ArchiveName=name)
    assert json.loads(described["EventPattern"]) == {"source": ["shop"]}
    assert (described["EventCount"], described["SizeBytes"], described["RetentionDays"]) == (0, 0, 1)
    listed = events.list_archives(NamePrefix=name[:8], EventSourceArn=_bus_arn(bus))["Archives"]
    assert [a["ArchiveName"] for a in listed] == [name]
    assert set(listed[0]) == {
        "ArchiveName",
        "EventSourceArn",
        "State",
        "RetentionDays",
        "SizeBytes",
        "EventCount",
        "CreationTime",
    }
    assert events.list_archives(NamePrefix="does-not-exist")["Archives"] == []
    assert _error(lambda: events.list_archives(EventSourceArn=_bus_arn("nope")))[0] == "ResourceNotFoundException"
    events.update_archive(ArchiveName=name, RetentionDays=7, Description="e")
    assert events.describe_archive(ArchiveName=name)["RetentionDays"] == 7
    events.delete_archive(ArchiveName=name)
    assert _error(lambda: events.describe_archive(ArchiveName=name)) == (
        "ResourceNotFoundException",
        f"Archive {name} does not exist.",
    )
    assert _error(lambda: events.delete_archive(ArchiveName=name))[0] == "ResourceNotFoundException"


def test_archive_has_its_managed_rule(events: Any, make_bus: Any) -> None:
    """As AWS shows it: `Events-Archive-<name>` on the archive's bus, ManagedBy prod.vhs.events.aws.internal, the
    archive's pattern plus `replay-name` absent; users cannot change it, DeleteRule with Force disables the archive."""
    bus = make_bus()
    name = f"arch-{uuid.uuid4().hex[:8]}"
    events.create_archive(ArchiveName=name, EventSourceArn=_bus_arn(bus), EventPattern=PATTERN)
    rule_name = f"Events-Archive-{name}"
    rule = events.describe_rule(Name=rule_name, EventBusName=bus)
    assert rule["Arn"] == f"arn:aws:events:us-east-1:000000000000:rule/{bus}/{rule_name}"
    assert (rule["ManagedBy"], rule["State"], rule["CreatedBy"], rule["EventBusName"]) == (
        "prod.vhs.events.aws.internal", "ENABLED", "000000000000", bus,
    )  # fmt: skip
    assert json.loads(rule["EventPattern"]) == {"source": ["shop"], "replay-name": [{"exists": False}]}
    assert not {"Description", "RoleArn", "ScheduleExpression"} & set(rule)
    listed = events.list_rules(EventBusName=bus)["Rules"]
    assert [r["Name"] for r in listed] == [rule_name] and listed[0]["ManagedBy"] == "prod.vhs.events.aws.internal"
    target = events.list_targets_by_rule(Rule=rule_name, EventBusName=bus)["Targets"]
    assert [(t["Id"], t["Arn"]) for t in target] == [(rule_name, "arn:aws:events:us-east-1:::")]
    for call in (
        lambda: events.delete_rule(Name=rule_name, EventBusName=bus),
        lambda: events.disable_rule(Name=rule_name, EventBusName=bus),
        lambda: events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=PATTERN),
        lambda: events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": "x", "Arn": _bus_arn(bus)}]),
        lambda: events.remove_targets(Rule=rule_name, EventBusName=bus, Ids=[rule_name]),
        lambda: events.tag_resource(ResourceARN=rule["Arn"], Tags=[{"Key": "k", "Value": "v"}]),
    ):
        assert _error(call)[0] == "ManagedRuleException"
    assert events.describe_rule(Name=rule_name, EventBusName=bus)["State"] == "ENABLED"
    events.update_archive(ArchiveName=name, EventPattern=json.dumps({"source": ["other"]}))
    changed = json.loads(events.describe_rule(Name=rule_name, EventBusName=bus)["EventPattern"])
    assert changed == {"source": ["other"], "replay-name": [{"exists": False}]}
    events.delete_rule(Name=rule_name, EventBusName=bus, Force=True)
    described = events.describe_archive(ArchiveName=name)
    assert (described["State"], described["StateReason"]) == (
        "DISABLED", "Managed rule for the archive was forcefully deleted.",
    )  # fmt: skip
    _put(events, bus, 1, source="other")
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 0  # a disabled archive keeps nothing
    events.delete_archive(ArchiveName=name)

    second = f"arch-{uuid.uuid4().hex[:8]}"
    events.create_archive(ArchiveName=second, EventSourceArn=_bus_arn(bus))
    events.delete_archive(ArchiveName=second)  # its rule goes with it
    assert events.list_rules(EventBusName=bus)["Rules"] == []


def test_archive_size_counts_each_event_as_its_json(events: Any, make_bus: Any) -> None:
    """SizeBytes grows by each archived event's compact UTF-8 JSON (envelope included): the same event shape
    (same id, time and region lengths) adds the same size, a longer detail adds exactly its extra bytes."""
    bus = make_bus()
    name = f"arch-{uuid.uuid4().hex[:8]}"
    events.create_archive(ArchiveName=name, EventSourceArn=_bus_arn(bus))
    entry = {"Source": "shop", "DetailType": "order", "EventBusName": bus}
    assert events.put_events(Entries=[{**entry, "Detail": json.dumps({"a": "x"})}])["FailedEntryCount"] == 0
    one = events.describe_archive(ArchiveName=name)["SizeBytes"]
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "order", "source": "shop",
             "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
             "resources": [], "detail": {"a": "x"}}  # fmt: skip
    assert one == len(json.dumps(event, separators=(",", ":")).encode())
    assert events.put_events(Entries=[{**entry, "Detail": json.dumps({"a": "xé"})}])["FailedEntryCount"] == 0
    assert events.describe_archive(ArchiveName=name)["SizeBytes"] == 2 * one + len("é".encode())
    events.delete_archive(ArchiveName=name)


def test_replay_sends_the_window_again(events: Any, sqs: Any, make_bus: Any, make_queue: Any, make_rule: Any) -> None:
    bus = make_bus()
    url, queue = make_queue()
    other_url, other_queue = make_queue()
    rule = make_rule(PATTERN, [{"Id": "q", "Arn": queue}], bus=bus)
    make_rule(PATTERN, [{"Id": "q", "Arn": other_queue}], bus=bus)  # not in FilterArns: gets no replayed event
    name = f"arch-{uuid.uuid4().hex[:8]}"
    events.create_archive(ArchiveName=name, EventSourceArn=_bus_arn(bus), EventPattern=PATTERN)
    begin = time.time() - 5
    for n in range(3):
        _put(events, bus, n)
    _put(events, bus, 99, source="other")  # not archived: the archive's pattern wants source shop
    assert len(drain(sqs, url, 3)) == 3 and len(drain(sqs, other_url, 3)) == 3
    archive = events.describe_archive(ArchiveName=name)
    assert archive["EventCount"] == 3 and archive["SizeBytes"] > 0

    replay = f"replay-{uuid.uuid4().hex[:8]}"
    rule_arn = f"arn:aws:events:us-east-1:000000000000:rule/{bus}/{rule}"
    archive_arn = archive["ArchiveArn"]
    started = events.start_replay(
        ReplayName=replay,
        Description="again",
        EventSourceArn=archive_arn,
        EventStartTime=begin,
        EventEndTime=time.time() + 5,
        Destination={"Arn": _bus_arn(bus), "FilterArns": [rule_arn]},
    )
    assert started["State"] == "STARTING" and started["ReplayArn"].endswith(f":replay/{replay}")
    bodies = [json.loads(m["Body"]) for m in drain(sqs, url, 3)]
    assert sorted(b["detail"]["n"] for b in bodies) == [0, 1, 2]
    assert all(b["replay-name"] == replay for b in bodies)
    assert list(bodies[0])[:8] == ["version", "id", "detail-type", "source", "account", "time", "region", "replay-name"]
    assert drain(sqs, other_url, 0, timeout=2) == []
    done = _until_state(events, replay, "COMPLETED")
    assert done["State"] == "COMPLETED" and done["Destination"]["FilterArns"] == [rule_arn]
    assert {"EventLastReplayedTime", "ReplayStartTime", "ReplayEndTime"} <= set(done)
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 3  # replayed events are not archived again
    [listed] = events.list_replays(NamePrefix=replay)["Replays"]
    assert listed["State"] == "COMPLETED" and listed["EventSourceArn"] == archive_arn

    assert _error(lambda: events.cancel_replay(ReplayName=replay))[0] == "IllegalStatusException"
    again = dict(
        ReplayName=replay,
        EventSourceArn=archive_arn,
        EventStartTime=begin,
        EventEndTime=time.time(),
        Destination={"Arn": _bus_arn(bus)},
    )
    assert _error(lambda: events.start_replay(**again)) == (
        "ResourceAlreadyExistsException",
        f"Replay {replay} already exists.",
    )
    fresh = {**again, "ReplayName": replay + "-2"}
    assert _error(lambda: events.start_replay(**{**fresh, "EventEndTime": begin})) == (
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
    )
    assert _error(lambda: events.start_replay(**{**fresh, "Destination": {"Arn": _bus_arn("default")}})) == (
        "ValidationException",
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
    )
    assert _error(lambda: events.start_replay(**{**fresh, "Destination": {"Arn": _bus_arn("nope")}})) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )
    missing = archive_arn + "-missing"
    assert _error(lambda: events.start_replay(**{**fresh, "EventSourceArn": missing})) == (
        "ValidationException",
        f"Parameter EventSourceArn is not valid. Reason: Archive {name}-missing does not exist.",
    )
    events.delete_archive(ArchiveName=name)


def test_archived_events_survive_a_restart(fresh_lamina: Callable[..., LaminaProcess], tmp_path: Path) -> None:
    server = fresh_lamina(data_dir=tmp_path / "data")
    events = server.client("events")
    events.create_archive(ArchiveName="kept", EventSourceArn=_bus_arn("default"))
    for n in range(4):
        _put(events, "default", n)
    size = events.describe_archive(ArchiveName="kept")["SizeBytes"]
    server.stop()
    again = fresh_lamina(data_dir=tmp_path / "data")
    archive = again.client("events").describe_archive(ArchiveName="kept")
    assert (archive["EventCount"], archive["SizeBytes"]) == (4, size)


def test_aws_cli_lists_archives(lamina: LaminaProcess, events: Any, tmp_path: Path) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    events.create_archive(ArchiveName=name, EventSourceArn=_bus_arn("default"))
    try:
        run = json_runner(tmp_path, f"http://127.0.0.1:{lamina.port}")
        listed = run("events", "list-archives", "--name-prefix", name)
        assert [a["ArchiveName"] for a in listed["Archives"]] == [name]
    finally:
        events.delete_archive(ArchiveName=name)


def test_retention_is_swept_on_the_clock(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = SqliteStore(tmp_path / "lamina.db")
        clock = ManualClock()
        engine = EventsEngine(store, clock)
        archives = Archives(engine, store, clock)
        bus = engine.bus("us-east-1", "000000000000", "default")
        assert bus is not None
        archives.save(Archive("a", "arn:a", "us-east-1", "000000000000", bus.arn, clock.time(), retention_days=1))
        old = engine.new_event("us-east-1", "000000000000", "shop", "order", {"n": 1}, [])
        engine.commit([], archived=engine.archive(bus, old))
        clock.advance(86_400 - 10)
        new = engine.new_event("us-east-1", "000000000000", "shop", "order", {"n": 2}, [])
        engine.commit([], archived=engine.archive(bus, new))
        assert archives.archives["arn:a"].event_count == 2
        archives.start()
        await clock.until_sleeping()
        clock.advance(SWEEP_SECONDS)  # the first event is now older than a day, the second is not
        await clock.until_sleeping()
        assert archives.archives["arn:a"].event_count == 1
        await archives.close()
        reloaded = Archives(EventsEngine(store, clock), store, clock)
        reloaded.load()
        [(_, kept)] = reloaded.events["arn:a"].values()
        assert kept["detail"] == {"n": 2}
        store.close()

    asyncio.run(scenario())
