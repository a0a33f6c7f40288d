"""The queue engine in virtual time (ManualClock): visibility, delay, retention, long polling and redrive,
with no sleeping. The store is a real SQLite file, so reloading checks durability of the engine's state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lamina.clock import ManualClock
from lamina.services.sqs.digests import md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore

T = TypeVar("T")
REGION, ACCOUNT = "us-east-1", "000000000000"


def _new(body: str, delay: int | None = None, group: str | None = None, dedup: str | None = None) -> NewMessage:
    system = {"SenderId": ACCOUNT}
    if group:
        system["MessageGroupId"] = group
        system["MessageDeduplicationId"] = dedup or body
    return NewMessage(body, md5_text(body), {}, None, system, delay, group, dedup or (body if group else None))


def run(tmp_path: Path, test: Callable[[SqsEngine, ManualClock], Awaitable[T]]) -> T:
    async def main() -> T:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        engine = SqsEngine(store, clock)
        engine.load()
        try:
            return await test(engine, clock)
        finally:
            await engine.close()
            await store.close()

    return asyncio.run(asyncio.wait_for(main(), 10))


async def _queue(engine: SqsEngine, name: str = "q", **attributes: str) -> Any:
    return await engine.create(REGION, ACCOUNT, name, attributes, {})


def test_visibility_timeout_in_virtual_time(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="100")
        await engine.send(q, [_new("a")])
        [got] = await engine.receive(q, 10, None, 0)
        assert await engine.receive(q, 10, None, 0) == []
        assert q.counts(clock.time()) == (0, 1, 0)
        clock.advance(99.9)
        assert await engine.receive(q, 10, None, 0) == []
        clock.advance(0.2)
        [again] = await engine.receive(q, 10, None, 0)
        assert again.message.receive_count == 2 and again.receipt_handle != got.receipt_handle

    run(tmp_path, test)


def test_delay_and_retention(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, DelaySeconds="60", MessageRetentionPeriod="120")
        await engine.send(q, [_new("late"), _new("now", delay=0)])
        assert q.counts(clock.time()) == (1, 0, 1)
        assert [r.message.body for r in await engine.receive(q, 10, 0, 0)] == ["now"]
        clock.advance(60)
        assert [r.message.body for r in await engine.receive(q, 10, 0, 0)] == ["late", "now"]
        clock.advance(61)  # both are now older than the retention period
        assert await engine.receive(q, 10, 0, 0) == []
        assert q.messages == {}

    run(tmp_path, test)


def test_long_poll_wakes_on_send_and_on_visibility(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine)
        waiting = asyncio.ensure_future(engine.receive(q, 1, None, 20))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        await engine.send(q, [_new("wake")])
        assert [r.message.body for r in await asyncio.wait_for(waiting, 1)] == ["wake"]
        # a receiver waiting for an in-flight message wakes when its visibility timeout ends (virtual time)
        waiting = asyncio.ensure_future(engine.receive(q, 1, None, 20))
        await asyncio.sleep(0.01)
        clock.advance(30)
        assert [r.message.receive_count for r in await asyncio.wait_for(waiting, 1)] == [2]
        # and an empty long poll ends after WaitTimeSeconds of virtual time
        empty = asyncio.ensure_future(engine.receive(await _queue(engine, "empty"), 1, None, 20))
        await asyncio.sleep(0.01)
        clock.advance(20)
        assert await asyncio.wait_for(empty, 1) == []

    run(tmp_path, test)


def test_redrive_after_max_receive_count(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        dlq = await _queue(engine, "dlq")
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3})
        q = await _queue(engine, "src", RedrivePolicy=policy)
        await engine.send(q, [_new("poison")])
        for _ in range(3):
            assert len(await engine.receive(q, 1, 0, 0)) == 1
        assert await engine.receive(q, 1, 0, 0) == []
        [dead] = await engine.receive(dlq, 1, None, 0)
        assert dead.message.body == "poison" and dead.message.receive_count == 4  # carried over, as on AWS

    run(tmp_path, test)


def test_concurrent_receives_move_each_message_to_the_dead_letter_queue_once(tmp_path: Path) -> None:
    """Two receives that both find exhausted messages (two pollers) while the DLQ's consumer takes what
    arrives: each message moves exactly once, so one the consumer holds does not turn visible again."""

    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        dlq = await _queue(engine, "dlq")
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
        q = await _queue(engine, "src", RedrivePolicy=policy)
        await engine.send(q, [_new(f"poison-{n}") for n in range(3)])
        assert len(await engine.receive(q, 10, 0, 0)) == 3

        async def consume() -> list[str]:
            await asyncio.sleep(0)
            return [r.message.body for r in await engine.receive(dlq, 10, 100, 0)]

        first, second, held = await asyncio.gather(engine.receive(q, 10, 0, 0), engine.receive(q, 10, 0, 0), consume())
        assert first == second == []
        assert sorted(held) == ["poison-0", "poison-1", "poison-2"]
        assert await engine.receive(dlq, 10, 100, 0) == []  # all three held by the consumer, none moved twice
        assert dlq.counts(clock.time()) == (0, 3, 0) and q.messages == {}

    run(tmp_path, test)


def test_fifo_dedup_window_and_group_blocking(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, "f.fifo", FifoQueue="true")
        first = await engine.send(q, [_new("a1", group="a"), _new("a2", group="a"), _new("b1", group="b")])
        again = await engine.send(q, [_new("a1", group="a")])
        assert again[0].message is first[0].message
        got = await engine.receive(q, 1, 30, 0)
        assert [r.message.body for r in got] == ["a1"]
        assert [r.message.body for r in await engine.receive(q, 10, 30, 0)] == ["b1"]
        await engine.delete_message(q, got[0].receipt_handle)
        assert [r.message.body for r in await engine.receive(q, 10, 30, 0)] == ["a2"]
        clock.advance(301)  # past the 5-minute deduplication window: the same id is a new message
        resent = await engine.send(q, [_new("a1", group="a")])
        assert resent[0].message is not first[0].message

    run(tmp_path, test)


def test_state_survives_reload(tmp_path: Path) -> None:
    async def fill(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="50")
        await engine.send(q, [_new(f"m{i}") for i in range(5)])
        got = await engine.receive(q, 2, None, 0)
        await engine.delete_message(q, got[0].receipt_handle)

    async def check(engine: SqsEngine, clock: ManualClock) -> None:
        q = engine.get(REGION, ACCOUNT, "q")
        assert [m.body for m in q.messages.values()] == ["m1", "m2", "m3", "m4"]
        assert q.messages[next(iter(q.messages))].receive_count == 1
        await engine.send(q, [_new("m5")])
        assert list(q.messages.values())[-1].seq == 6

    run(tmp_path, fill)
    run(tmp_path, check)


def test_fifo_deduplication_survives_reload_for_queued_messages(tmp_path: Path) -> None:
    async def fill(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, "f.fifo", FifoQueue="true")
        await engine.send(q, [_new("a", group="g", dedup="d1")])

    async def check(engine: SqsEngine, clock: ManualClock) -> None:
        q = engine.get(REGION, ACCOUNT, "f.fifo")
        [again] = await engine.send(q, [_new("a", group="g", dedup="d1")])
        assert len(q.messages) == 1 and again.message.id == next(iter(q.messages))

    run(tmp_path, fill)
    run(tmp_path, check)


def test_redriven_message_stays_in_the_dead_letter_queue_after_reload(tmp_path: Path) -> None:
    async def fill(engine: SqsEngine, clock: ManualClock) -> None:
        dlq = await _queue(engine, "dlq")
        q = await _queue(
            engine, "src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
        )
        await engine.send(q, [_new("poison"), _new("fine")])
        assert len(await engine.receive(q, 10, 0, 0)) == 2
        got = await engine.receive(q, 10, 0, 0)  # both past maxReceiveCount: both move
        assert got == [] and len(dlq.messages) == 2

    async def check(engine: SqsEngine, clock: ManualClock) -> None:
        src = engine.get(REGION, ACCOUNT, "src")
        dlq = engine.get(REGION, ACCOUNT, "dlq")
        assert src.messages == {}
        assert sorted(m.body for m in dlq.messages.values()) == ["fine", "poison"]
        assert {m.receive_count for m in dlq.messages.values()} == {1}
        assert all(m.system["DeadLetterQueueSourceArn"] == src.arn for m in dlq.messages.values())

    run(tmp_path, fill)
    run(tmp_path, check)


def test_concurrent_creates_of_one_name_share_the_queue(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        first, second = await asyncio.gather(_queue(engine, "same"), _queue(engine, "same"))
        assert first is second

    run(tmp_path, test)
