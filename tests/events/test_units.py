"""The dispatcher in virtual time (ManualClock): back-off, RetryPolicy limits, the dead-letter queue, and
deliveries that outlive the engine (SQLite store reopened); InputTransformer's quoting rules."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lamina.clock import ManualClock
from lamina.invoke.destinations import Delivery, TargetUnavailable
from lamina.services.events import input_transform
from lamina.services.events.dispatch import Dispatcher
from lamina.services.events.engine import EventsEngine, Rule, iso_time, rule_arn
from lamina.store.documents import MemoryStore, SqliteStore

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq"


class FakeSqs:
    def __init__(self, failures: int = 0, missing: bool = False) -> None:
        self.failures = failures
        self.missing = missing
        self.got: list[Delivery] = []

    async def deliver(self, delivery: Delivery) -> None:
        if delivery.target_arn == QUEUE:
            if self.missing:
                raise TargetUnavailable("no such queue")
            if self.failures:
                self.failures -= 1
                raise RuntimeError("transient")
        self.got.append(delivery)


def _engine(store: Any, clock: ManualClock, target: dict[str, Any]) -> EventsEngine:
    engine = EventsEngine(store, clock)
    engine.load()
    arn = rule_arn("us-east-1", "000000000000", "default", "r")
    if arn not in engine.rules:
        engine.save_rule(
            Rule("r", arn, "default", "us-east-1", "000000000000", event_pattern='{"source": ["s"]}', targets=[target])
        )
    return engine


def _put(engine: EventsEngine) -> dict[str, Any]:
    bus = engine.bus("us-east-1", "000000000000", "default")
    assert bus is not None
    event = engine.new_event("us-east-1", "000000000000", "s", "t", {"k": 1}, [])
    engine.commit(engine.route(bus, event))
    return event


def in_loop(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Runs an async test body in a fresh event loop (bounded, so a hang fails instead of blocking)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 10))

    return run


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@in_loop
async def test_transient_failures_back_off_on_the_clock() -> None:
    clock = ManualClock()
    sqs = FakeSqs(failures=3)
    engine = _engine(MemoryStore(), clock, {"Id": "t", "Arn": QUEUE})
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        _put(engine)
        await _settle()
        assert sqs.got == [] and dispatcher.retried["sqs"] == 1
        clock.advance(1)  # first back-off: 1 s
        await _settle()
        assert dispatcher.retried["sqs"] == 2
        clock.advance(1.5)  # second is 2 s: not yet
        await _settle()
        assert dispatcher.retried["sqs"] == 2
        clock.advance(0.5)
        await _settle()
        clock.advance(4)
        await _settle()
        assert len(sqs.got) == 1 and engine.pending == {}
    finally:
        await dispatcher.close()


@in_loop
async def test_retries_exhausted_go_to_the_dead_letter_queue() -> None:
    clock = ManualClock()
    sqs = FakeSqs(failures=100)
    target = {"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": 2}, "DeadLetterConfig": {"Arn": DLQ}}
    engine = _engine(MemoryStore(), clock, target)
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        event = _put(engine)
        for _ in range(4):
            await _settle()
            clock.advance(10)
        await _settle()
        [dead] = sqs.got
        assert dead.target_arn == DLQ and json.loads(dead.body)["id"] == event["id"]
        assert dead.attributes["ERROR_CODE"] == ("String", "SDK_CLIENT_ERROR")
        assert dead.attributes["TARGET_ARN"] == ("String", QUEUE)
        assert dispatcher.retried["sqs"] == 2 and engine.pending == {}
    finally:
        await dispatcher.close()


@in_loop
async def test_event_age_limit_and_missing_targets_are_not_retried() -> None:
    clock = ManualClock()
    sqs = FakeSqs(missing=True)
    engine = _engine(MemoryStore(), clock, {"Id": "t", "Arn": QUEUE, "DeadLetterConfig": {"Arn": DLQ}})
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        _put(engine)
        await _settle()
        [dead] = sqs.got
        assert dead.attributes["ERROR_CODE"] == ("String", "RESOURCE_NOT_FOUND")
        assert dispatcher.retried["sqs"] == 0
    finally:
        await dispatcher.close()
    clock = ManualClock()
    sqs = FakeSqs(failures=1000)
    target = {"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}
    engine = _engine(MemoryStore(), clock, target)
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        _put(engine)
        for _ in range(12):
            await _settle()
            clock.advance(30)
        await _settle()
        assert engine.pending == {} and dispatcher.dropped["sqs"] == 1 and dispatcher.retried["sqs"] < 10
    finally:
        await dispatcher.close()


@in_loop
async def test_committed_deliveries_outlive_the_engine(tmp_path: Path) -> None:
    clock = ManualClock()
    store = SqliteStore(tmp_path / "db")
    engine = _engine(store, clock, {"Id": "t", "Arn": QUEUE})
    event = _put(engine)  # no dispatcher: as if the process died right after answering
    store.close()
    store = SqliteStore(tmp_path / "db")
    sqs = FakeSqs()
    engine = _engine(store, clock, {"Id": "t", "Arn": QUEUE})
    assert len(engine.pending) == 1
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        await _settle()
        [delivery] = sqs.got
        assert json.loads(delivery.body)["id"] == event["id"]
        assert store.load("events-delivery") == {}
    finally:
        await dispatcher.close()
        store.close()


EVENT = {"id": "e1", "detail": {"name": 'a "quoted" name', "n": 5, "obj": {"x": [1, 2]}, "tags": ["a", "b"]}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{"n": <n>, "name": <name>}', {"n": 5, "name": 'a "quoted" name'}),
        ('{"text": "<name> has <n>"}', {"text": 'a "quoted" name has 5'}),
        ('{"obj": <obj>, "inside": "<obj>"}', {"obj": {"x": [1, 2]}, "inside": '{"x": [1, 2]}'}),
        ('{"missing": <nope>, "quoted": "<nope>"}', {"missing": None, "quoted": ""}),
        ('{"rule": "<aws.events.rule-name>", "event": <aws.events.event.json>}', {"rule": "r", "event": EVENT}),
        ('{"first": <first>, "all": <all>}', {"first": "a", "all": ["a", "b"]}),
    ],
)
def test_input_template_quoting(template: str, expected: Any) -> None:
    paths = {"n": "$.detail.n", "name": "$.detail.name", "obj": "$.detail.obj", "nope": "$.detail.nope"}
    paths.update({"first": "$.detail.tags[0]", "all": "$.detail.tags[*]"})
    extra = input_transform.predefined(EVENT, "arn:r", "r", "2024-01-01T00:00:00Z")
    assert json.loads(input_transform.transform(template, paths, EVENT, extra)) == expected


def test_plain_text_template() -> None:
    out = input_transform.transform("<n> is <what>", {"n": "$.detail.n", "what": "$.id"}, EVENT, {})
    assert out == "5 is e1"


class SlowSqs:
    """Holds every delivery until released; records the most held at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.held = 0
        self.most = 0
        self.done = 0

    async def deliver(self, delivery: Delivery) -> None:
        self.held += 1
        self.most = max(self.most, self.held)
        await self.release.wait()
        self.held -= 1
        self.done += 1


@in_loop
async def test_deliveries_in_flight_are_bounded() -> None:
    from lamina.services.events.dispatch import CONCURRENCY

    clock = ManualClock()
    sqs = SlowSqs()
    engine = _engine(MemoryStore(), clock, {"Id": "t", "Arn": QUEUE})
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        for _ in range(100):
            _put(engine)
        await _settle()
        assert sqs.most == CONCURRENCY
        sqs.release.set()
        for _ in range(50):
            await _settle()
        assert sqs.done == 100 and engine.pending == {} and sqs.most == CONCURRENCY
    finally:
        await dispatcher.close()


@in_loop
async def test_a_schedule_firing_is_awss_scheduled_event() -> None:
    recorded = json.loads(
        (
            Path(__file__).parents[1]
            / "conformance"
            / "aws-recorded"
            / "services__events__test_events_schedule.snapshot.json"
        ).read_text()
    )
    [entry] = [v for k, v in recorded.items() if k.endswith("::test_schedule_cron_target_sqs")]
    [expected] = entry["recorded-content"]["message"]
    clock = ManualClock()
    sqs = FakeSqs()
    engine = EventsEngine(MemoryStore(), clock)
    arn = rule_arn("us-east-1", "000000000000", "default", "every")
    rule = Rule("every", arn, "default", "us-east-1", "000000000000", schedule="rate(5 minutes)")
    rule.targets = [{"Id": "q", "Arn": QUEUE}]
    engine.save_rule(rule)
    assert engine.scheduled_rules() == [rule]
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    dispatcher.start()
    try:
        event = engine.fire(rule, clock.time())
        await _settle()
        [delivery] = sqs.got
        body = json.loads(delivery.body)
        assert event is not None and body["id"] == event["id"]
        assert list(body) == list(expected["Body"])
        assert {k: body[k] for k in ("version", "detail-type", "source", "detail")} == {
            k: expected["Body"][k] for k in ("version", "detail-type", "source", "detail")
        }
        assert body["resources"] == [arn]
        rule.state = "DISABLED"
        assert engine.fire(rule, clock.time()) is None
    finally:
        await dispatcher.close()


class FullStore(MemoryStore):
    """Refuses writes while `full` (as a full disk does)."""

    full = False

    def put(self, kind: str, key: str, body: dict[str, Any]) -> None:
        if self.full:
            raise OSError("database or disk is full")
        super().put(kind, key, body)


def test_a_refused_write_changes_nothing() -> None:
    from lamina.services.events.provider import EventsProvider
    from lamina.types import CallContext

    store = FullStore()
    engine = EventsEngine(store, ManualClock())
    provider = EventsProvider(engine)
    ctx = CallContext("us-east-1", "000000000000", "r", "http://x")
    provider.put_rule(ctx, {"Name": "r", "EventPattern": '{"source": ["s"]}'})
    provider.put_targets(ctx, {"Rule": "r", "Targets": [{"Id": "t", "Arn": QUEUE}]})
    store.full = True
    for call, params in (
        (provider.disable_rule, {"Name": "r"}),
        (provider.remove_targets, {"Rule": "r", "Ids": ["t"]}),
        (provider.put_targets, {"Rule": "r", "Targets": [{"Id": "u", "Arn": QUEUE}]}),
        (provider.tag_resource, {"ResourceARN": rule_arn("us-east-1", "000000000000", "default", "r"),
                                 "Tags": [{"Key": "k", "Value": "v"}]}),
    ):  # fmt: skip
        with pytest.raises(OSError):
            call(ctx, params)
    described = provider.describe_rule(ctx, {"Name": "r"})
    assert described["State"] == "ENABLED"
    assert provider.list_targets_by_rule(ctx, {"Rule": "r"})["Targets"] == [{"Id": "t", "Arn": QUEUE}]
    assert provider.list_tags_for_resource(ctx, {"ResourceARN": described["Arn"]})["Tags"] == []


async def _run_for(clock: ManualClock, seconds: int, step: int = 10) -> None:
    for _ in range(seconds // step):
        clock.advance(step)
        await _settle()


@in_loop
async def test_rate_rule_fires_12_times_in_a_virtual_hour() -> None:
    from lamina.services.events.rule_schedules import RuleSchedules

    clock = ManualClock(start=1_700_000_000.0)
    sqs = FakeSqs()
    engine = EventsEngine(MemoryStore(), clock)
    schedules = RuleSchedules(engine, clock)
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    schedules.start()
    dispatcher.start()
    try:
        arn = rule_arn("us-east-1", "000000000000", "default", "every5")
        rule = Rule("every5", arn, "default", "us-east-1", "000000000000", schedule="rate(5 minutes)")
        engine.save_rule(replace(rule, created=clock.time(), targets=[{"Id": "q", "Arn": QUEUE}]))
        quarter = rule_arn("us-east-1", "000000000000", "default", "quarter")
        cron = Rule("quarter", quarter, "default", "us-east-1", "000000000000", schedule="cron(0/15 * * * ? *)")
        engine.save_rule(replace(cron, created=clock.time(), targets=[{"Id": "q", "Arn": QUEUE}]))
        await _run_for(clock, 3600)
        bodies = [json.loads(d.body) for d in sqs.got]
        every5 = [b for b in bodies if b["resources"] == [arn]]
        assert len(every5) == 12 and schedules.fired == 12 + 4
        assert [b["time"] for b in every5][:2] == [iso_time(1_700_000_300.0), iso_time(1_700_000_600.0)]
        assert len([b for b in bodies if b["resources"] == [quarter]]) == 4
        assert all(b["detail-type"] == "Scheduled Event" and b["source"] == "aws.events" for b in bodies)
        engine.save_rule(replace(engine.rules[arn], state="DISABLED"))
        engine.delete_rule(engine.rules[quarter])
        await _run_for(clock, 1800)
        assert len(sqs.got) == 16  # disabled and deleted rules fire no more
        engine.save_rule(replace(engine.rules[arn], state="ENABLED"))
        await _run_for(clock, 600)
        assert len(sqs.got) == 18
    finally:
        await schedules.close()
        await dispatcher.close()


@in_loop
async def test_schedule_rules_resume_after_a_restart_without_making_up_missed_fires() -> None:
    from lamina.services.events.rule_schedules import RuleSchedules

    clock = ManualClock(start=1_700_000_000.0)
    store = MemoryStore()
    engine = EventsEngine(store, clock)
    arn = rule_arn("us-east-1", "000000000000", "default", "hourly")
    rule = Rule("hourly", arn, "default", "us-east-1", "000000000000", schedule="rate(1 hour)", created=clock.time())
    engine.save_rule(replace(rule, targets=[{"Id": "q", "Arn": QUEUE}]))
    clock.advance(5 * 3600 + 600)  # "down" for five hours and ten minutes
    engine = EventsEngine(store, clock)
    engine.load()
    sqs = FakeSqs()
    schedules = RuleSchedules(engine, clock)
    dispatcher = Dispatcher(engine, {"sqs": sqs}, clock)
    schedules.start()
    dispatcher.start()
    try:
        await _run_for(clock, 2970, step=30)  # the 6-hour mark is 50 minutes away: not yet
        assert sqs.got == []
        await _run_for(clock, 60, step=30)
        [fire] = [json.loads(d.body) for d in sqs.got]
        assert fire["time"] == iso_time(1_700_000_000.0 + 6 * 3600)
    finally:
        await schedules.close()
        await dispatcher.close()
