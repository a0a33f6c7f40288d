"""The scheduler engine in virtual time: a ManualClock, the in-memory document store and recording targets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from lamina.clock import ManualClock
from lamina.services.scheduler.delivery import Attributes, TargetDelivery
from lamina.services.scheduler.engine import SchedulerEngine
from lamina.store.documents import MemoryStore

REGION = "us-east-1"
FN = "arn:aws:lambda:us-east-1:000000000000:function:tick"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:dlq"
START = datetime(2024, 5, 1, tzinfo=UTC).timestamp()


class Targets:
    """Records every delivery; `failing` ARNs raise as a missing function would."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes, Attributes, float]] = []
        self.failing: set[str] = set()
        self.clock: ManualClock | None = None

    def deliver(self, service: str) -> Callable[[str, bytes, Attributes], Awaitable[None]]:
        async def deliver(arn: str, payload: bytes, attributes: Attributes) -> None:
            if arn in self.failing:
                raise LookupError(f"function {arn} does not exist")
            assert self.clock is not None
            self.got.append((arn, payload, attributes, self.clock.time()))

        return deliver

    def to(self, arn: str) -> list[tuple[str, bytes, Attributes, float]]:
        return [g for g in self.got if g[0] == arn]


class World:
    def __init__(self, store: MemoryStore | None = None, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock(START)
        self.store = store or MemoryStore()
        self.targets = Targets()
        self.targets.clock = self.clock
        services = {s: self.targets.deliver(s) for s in ("lambda", "sqs", "sns")}
        delivery = TargetDelivery(services, self.clock, self.store)
        self.engine = SchedulerEngine(self.store, self.clock, delivery, "000000000000")
        self.engine.load()

    async def advance(self, seconds: float, step: float = 10.0) -> None:
        """Virtual time in `step`s, each followed by whatever fell due (a virtual hour takes milliseconds)."""
        for _ in range(20):  # what is due now runs now
            await asyncio.sleep(0)
        moved = 0.0
        while moved < seconds:
            delta = min(step, seconds - moved)
            self.clock.advance(delta)
            moved += delta
            for _ in range(20):
                await asyncio.sleep(0)

    def schedule(self, name: str, expression: str, **extra: Any) -> None:
        now = self.clock.time()
        target = {"Arn": FN, "RoleArn": "arn:aws:iam::000000000000:role/r", **extra.pop("Target", {})}
        record = {
            "Arn": f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}",
            "GroupName": "default",
            "Name": name,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": "UTC",
            "State": "ENABLED",
            "CreationDate": now,
            "LastModificationDate": now,
            "Target": target,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "NONE",
            **extra,
        }
        self.engine.put_schedule(REGION, record)


def run(body: Callable[[World], Awaitable[None]], world: World | None = None) -> None:
    async def main() -> None:
        w = world or World()
        w.engine.start()
        try:
            await body(w)
        finally:
            await w.engine.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_rate_five_minutes_fires_twelve_times_in_a_virtual_hour() -> None:
    async def body(w: World) -> None:
        w.schedule("every5", "rate(5 minutes)", Target={"Input": '{"n": 1}'})
        await w.advance(3599)  # [0, 3600): a virtual hour
        fired = w.targets.to(FN)
        assert len(fired) == 12
        # without a StartDate AWS invokes at once, then every five minutes
        assert [t - START for *_, t in fired] == [300.0 * k for k in range(12)]
        assert all(json.loads(payload) == {"n": 1} for _, payload, _, _ in fired)

    run(body)


def test_cron_in_a_timezone_fires_at_local_time_across_dst() -> None:
    """09:00 New York: 14:00 UTC before the spring change of 10 March 2024, 13:00 UTC after it."""
    clock = ManualClock(datetime(2024, 3, 8, 12, tzinfo=UTC).timestamp())

    async def body(w: World) -> None:
        w.schedule("nine", "cron(0 9 * * ? *)", ScheduleExpressionTimezone="America/New_York")
        await w.advance(4 * 86400, step=600)
        hours = [datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M") for *_, t in w.targets.to(FN)]
        assert hours == ["03-08 14:00", "03-09 14:00", "03-10 13:00", "03-11 13:00"]

    run(body, World(clock=clock))


def test_a_fire_missed_while_down_fires_once_after_restart() -> None:
    store = MemoryStore()
    first = World(store)

    async def before(w: World) -> None:
        w.schedule("every5", "rate(5 minutes)")
        await w.advance(600)
        assert len(w.targets.to(FN)) == 3  # at 0, 300 and 600

    run(before, first)
    # Down for an hour: twelve periods pass unseen.
    clock = ManualClock(first.clock.time() + 3600)
    second = World(store, clock)

    async def after(w: World) -> None:
        await w.advance(1)
        assert len(w.targets.to(FN)) == 1  # once, not once per missed period
        await w.advance(600)
        assert len(w.targets.to(FN)) == 3  # then on, every five minutes

    run(after, second)


def test_at_fires_once_and_is_deleted_after_completion() -> None:
    async def body(w: World) -> None:
        w.schedule("once", "at(2024-05-01T00:10:00)", ActionAfterCompletion="DELETE")
        w.schedule("kept", "at(2024-05-01T00:20:00)")
        await w.advance(3600)
        assert [t - START for *_, t in w.targets.to(FN)] == [600.0, 1200.0]
        assert w.engine.schedule(REGION, "default", "once") is None
        assert w.engine.schedule(REGION, "default", "kept") is not None
        assert list(w.store.load("scheduler-schedule")) == ["us-east-1/default/kept"]

    run(body)


def test_disabled_and_out_of_window_schedules_do_not_fire() -> None:
    async def body(w: World) -> None:
        w.schedule("off", "rate(1 minute)", State="DISABLED")
        w.schedule("later", "rate(1 minute)", StartDate=START + 1800)
        w.schedule("ended", "rate(1 minute)", EndDate=START + 300)
        await w.advance(3600)
        fired = [t - START for *_, t in w.targets.to(FN)]
        assert fired.count(1800.0) == 1  # `later` starts at its StartDate
        assert len(fired) == 6 + 31  # `ended`: 0..300; `later`: 1800..3600
        assert max(t for t in fired if t < 1800) == 300.0

    run(body)


def test_flexible_window_fires_within_the_window() -> None:
    async def body(w: World) -> None:
        w.schedule("flex", "rate(1 hour)", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
        await w.advance(5 * 3600 + 900, step=5)
        fired = [t - START for *_, t in w.targets.to(FN)]
        assert len(fired) == 6
        for k, t in enumerate(fired):
            assert 3600 * k <= t <= 3600 * k + 900

    run(body)


def test_failed_target_is_retried_then_dead_lettered() -> None:
    async def body(w: World) -> None:
        w.targets.failing.add(FN)
        w.schedule(
            "broken",
            "at(2024-05-01T00:01:00)",
            Target={"RetryPolicy": {"MaximumRetryAttempts": 3}, "DeadLetterConfig": {"Arn": QUEUE}, "Input": "x"},
        )
        await w.advance(120, step=1)
        [(_, payload, attributes, _)] = w.targets.to(QUEUE)
        assert payload == b"x"
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == ("String", "MaximumRetryAttempts")
        assert attributes["RETRY_ATTEMPTS"] == ("String", "3")
        assert attributes["TARGET_ARN"] == ("String", FN)
        assert "does not exist" in attributes["ERROR_MESSAGE"][1]

    run(body)


def test_context_attributes_in_the_input() -> None:
    async def body(w: World) -> None:
        w.schedule("ctx", "rate(1 minute)", Target={"Input": '{"t": "<aws.scheduler.scheduled-time>"}'})
        await w.advance(60)
        assert [json.loads(payload) for _, payload, _, _ in w.targets.to(FN)] == [
            {"t": "2024-05-01T00:00:00Z"},
            {"t": "2024-05-01T00:01:00Z"},
        ]

    run(body)


def test_deleting_a_group_stops_its_schedules() -> None:
    async def body(w: World) -> None:
        now = w.clock.time()
        group = {"Arn": "g", "Name": "team", "State": "ACTIVE", "CreationDate": now, "LastModificationDate": now}
        w.engine.put_group(REGION, {**group, "Tags": []})
        w.schedule("in-team", "rate(1 minute)", GroupName="team")
        w.engine.delete_group(REGION, "team")
        await w.advance(300)
        assert w.targets.got == []
        assert w.store.load("scheduler-schedule") == {}

    run(body)


def test_a_retry_interrupted_by_a_restart_resumes() -> None:
    store = MemoryStore()
    first = World(store)

    async def before(w: World) -> None:
        w.targets.failing.add(FN)  # the function does not exist yet
        w.schedule("once", "at(2024-05-01T00:01:00)", Target={"Input": "late"})
        await w.advance(70, step=1)
        assert w.targets.got == []
        assert len(w.store.load("scheduler-retry")) == 1  # waiting for its next attempt, stored

    run(before, first)
    second = World(store, ManualClock(first.clock.time() + 30))  # back 30 s later; the function exists now

    async def after(w: World) -> None:
        await w.advance(600, step=1)
        assert [payload for _, payload, _, _ in w.targets.to(FN)] == [b"late"]  # once
        assert w.store.load("scheduler-retry") == {}

    run(after, second)
