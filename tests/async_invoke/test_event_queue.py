"""The event queue contract, run against every backend (the in-memory fake and SQLite), plus what only the
durable one promises: group commit, and leases released when the queue is reopened after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lamina.clock import ManualClock
from lamina.invoke.event_queue import EventQueue, EventState, MemoryEventQueue, QueuedEvent
from lamina.store.documents import SqliteStore
from lamina.store.event_queue_sqlite import SqliteEventQueue

Factory = Callable[[], EventQueue]


def event(i: int, next_at: float = 100.0, key: str = "us-east-1/f") -> QueuedEvent:
    return QueuedEvent(f"e{i}", key, "arn:aws:lambda:us-east-1:000000000000:function:f", f"r{i}", b"{}", 100.0, next_at)


def sqlite_queue(path: Path) -> SqliteEventQueue:
    SqliteStore(path).close()  # migrations
    return SqliteEventQueue(path)


@pytest.fixture(params=["memory", "sqlite"])
def make_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    if request.param == "memory":
        yield MemoryEventQueue
    else:
        yield lambda: sqlite_queue(tmp_path / "lamina.db")


def run(factory: Factory, body: Callable[[EventQueue], Awaitable[Any]]) -> None:
    async def main() -> None:
        queue = factory()
        try:
            await body(queue)
        finally:
            await queue.close()

    asyncio.run(main())


def test_lease_returns_due_events_once_until_the_lease_expires(make_queue: Factory) -> None:
    async def body(q: EventQueue) -> None:
        await q.put([event(1), event(2, next_at=200.0)])
        leased = await q.lease(now=150.0, limit=10, lease_s=60.0)
        assert [e.id for e in leased] == ["e1"]
        assert leased[0].state is EventState.LEASED
        assert await q.lease(now=150.0, limit=10, lease_s=60.0) == []
        assert await q.next_due() == 200.0
        again = await q.lease(now=211.0, limit=10, lease_s=60.0)  # e1's lease expired at 210, e2 is due
        assert sorted(e.id for e in again) == ["e1", "e2"]

    run(make_queue, body)


def test_reschedule_complete_and_drop(make_queue: Factory) -> None:
    async def body(q: EventQueue) -> None:
        await q.put([event(1), event(2), event(3, key="us-east-1/other")])
        leased = await q.lease(now=100.0, limit=2, lease_s=60.0)
        first, second = leased
        await q.reschedule(replace(first, next_at=500.0, attempts=1, last_response='{"x":1}'))
        await q.complete(second.id)
        assert await q.count() == 2
        back = {e.id: e for e in await q.lease(now=500.0, limit=5, lease_s=60.0)}
        assert sorted(back) == sorted([first.id, "e3"])
        assert (back[first.id].attempts, back[first.id].last_response) == (1, '{"x":1}')
        assert await q.drop_function("us-east-1/f") == 1
        assert await q.count() == 1

    run(make_queue, body)


def test_sqlite_group_commit_shares_transactions(tmp_path: Path) -> None:
    async def main() -> None:
        q = sqlite_queue(tmp_path / "lamina.db")
        await asyncio.gather(*(q.put([event(i)]) for i in range(2000)))
        assert await q.count() == 2000
        assert q.batches < 200, q.batches  # 2000 puts, far fewer fsyncs
        await q.close()

    asyncio.run(main())


def test_sqlite_reopen_releases_leases_and_keeps_everything(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "lamina.db"
        q = sqlite_queue(path)
        await q.put([event(i) for i in range(5)])
        await q.lease(now=100.0, limit=3, lease_s=900.0)
        await q.close()  # as after kill -9: three attempts were in flight
        q2 = SqliteEventQueue(path)
        leased = await q2.lease(now=100.0, limit=10, lease_s=900.0)
        assert sorted(e.id for e in leased) == [f"e{i}" for i in range(5)]
        await q2.close()

    asyncio.run(main())


def test_sqlite_fsyncs_every_put_but_not_the_pollers_bookkeeping(tmp_path: Path) -> None:
    async def main() -> None:
        q = sqlite_queue(tmp_path / "lamina.db")
        for i in range(20):  # one caller after another: each put is its own durable commit
            await q.put([event(i)])
        assert q.commits == {"FULL": 20}
        leased = await q.lease(now=100.0, limit=20, lease_s=60.0)
        await q.reschedule(replace(leased[0], next_at=300.0, attempts=1))
        for e in leased[1:]:
            await q.complete(e.id)
        assert await q.next_due() == 300.0 and await q.count() == 1
        assert q.commits == {"FULL": 21, "NORMAL": 1 + 19 + 2}
        await q.close()

    asyncio.run(main())


def test_sqlite_lazy_writes_left_waiting_make_the_next_commit_sync(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        SqliteStore(tmp_path / "lamina.db").close()
        q = SqliteEventQueue(tmp_path / "lamina.db", clock=clock)
        await q.put([event(1), event(2)])
        first, second = await q.lease(now=100.0, limit=2, lease_s=60.0)
        await q.complete(first.id)
        assert q.commits == {"FULL": 1, "NORMAL": 2}
        clock.advance(5.0)  # far past max_lag_s: the next lazy batch pays for the fsync
        await q.complete(second.id)
        assert q.commits == {"FULL": 2, "NORMAL": 2}
        await q.close()

    asyncio.run(main())


def test_sqlite_queue_honours_a_weaker_configured_level(tmp_path: Path) -> None:
    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db").close()
        q = SqliteEventQueue(tmp_path / "lamina.db", synchronous="NORMAL")
        await q.put([event(1)])
        await q.complete("e1")
        assert q.commits == {"NORMAL": 2}
        await q.close()

    asyncio.run(main())
