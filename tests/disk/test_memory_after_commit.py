"""The SQS engine changes memory only after its store committed: a write refused by a full disk leaves the
queues as the store holds them, so the API shows what a restart shows. The store is a real SQLite file whose
writes fail with SQLite's own "database or disk is full" while `full` is set (a real full disk is in
test_full_disk.py)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lamina.clock import ManualClock
from lamina.services.sqs.digests import md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.store.disk_space import is_full
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore

REGION, ACCOUNT = "us-east-1", "000000000000"


class FullingStore(SqsStore):
    full = False

    async def _write(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        await super()._write(work)


def _new(body: str, group: str | None = None) -> NewMessage:
    system = {"SenderId": ACCOUNT}
    if group:
        system["MessageGroupId"] = group
        system["MessageDeduplicationId"] = body
    return NewMessage(body, md5_text(body), {}, None, system, None, group, body if group else None)


def _state(engine: SqsEngine) -> dict[str, list[str]]:
    return {q.name: sorted(m.body for m in q.messages.values()) for q in engine.all_queues()}


def run(tmp_path: Path, test: Callable[[SqsEngine, FullingStore], Awaitable[None]]) -> None:
    """Runs `test`, then checks that a reload from the store shows the state memory showed."""

    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        store = FullingStore(tmp_path / "lamina.db", "OFF")
        engine = SqsEngine(store, ManualClock())
        engine.load()
        await test(engine, store)
        shown = _state(engine)
        await engine.close()
        await store.close()
        again = SqsStore(tmp_path / "lamina.db", "OFF")
        reloaded = SqsEngine(again, ManualClock())
        reloaded.load()
        assert _state(reloaded) == shown
        await reloaded.close()
        await again.close()

    asyncio.run(asyncio.wait_for(main(), 10))


async def _refused(write: Awaitable[Any]) -> None:
    with pytest.raises(sqlite3.OperationalError) as raised:
        await write
    assert is_full(raised.value)


def test_refused_delete_queue_keeps_the_queue(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, store: FullingStore) -> None:
        q = await engine.create(REGION, ACCOUNT, "q", {}, {})
        await engine.send(q, [_new("a")])
        store.full = True
        await _refused(engine.delete(q))
        assert engine.get(REGION, ACCOUNT, "q") is q

    run(tmp_path, test)


def test_refused_purge_and_delete_message_keep_the_messages(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, store: FullingStore) -> None:
        q = await engine.create(REGION, ACCOUNT, "q", {}, {})
        await engine.send(q, [_new("a"), _new("b")])
        [got, _] = await engine.receive(q, 10, 0, 0)
        store.full = True
        await _refused(engine.purge(q))
        await _refused(engine.delete_message(q, got.receipt_handle))
        await _refused(engine.delete_messages(q, [got.receipt_handle]))
        assert sorted(m.body for m in q.messages.values()) == ["a", "b"]
        store.full = False
        await engine.purge(q)  # the refused purge did not start the 60-second window
        assert q.messages == {}

    run(tmp_path, test)


def test_refused_attribute_change_is_undone(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, store: FullingStore) -> None:
        q = await engine.create(REGION, ACCOUNT, "q", {"VisibilityTimeout": "30"}, {"a": "1"})
        store.full = True
        await _refused(engine.update(q, {"VisibilityTimeout": "60"}, {"b": "2"}))
        assert (q.attributes["VisibilityTimeout"], q.tags) == ("30", {"a": "1"})

    run(tmp_path, test)


def test_refused_fifo_send_is_not_a_duplicate_when_retried(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, store: FullingStore) -> None:
        q = await engine.create(REGION, ACCOUNT, "q.fifo", {"FifoQueue": "true"}, {})
        store.full = True
        await _refused(engine.send(q, [_new("a", group="g")]))
        store.full = False
        [sent] = await engine.send(q, [_new("a", group="g")])  # the retry is stored, not answered from memory
        assert list(q.messages) == [sent.message.id]

    run(tmp_path, test)


def test_refused_redrive_leaves_the_message_in_its_queue(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, store: FullingStore) -> None:
        dlq = await engine.create(REGION, ACCOUNT, "dlq", {}, {})
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "1"})
        q = await engine.create(REGION, ACCOUNT, "q", {"RedrivePolicy": policy, "VisibilityTimeout": "0"}, {})
        await engine.send(q, [_new("a")])
        assert len(await engine.receive(q, 10, 0, 0)) == 1
        store.full = True
        with pytest.raises(sqlite3.OperationalError):
            await engine.receive(q, 10, 0, 0)  # the second receive moves it to the dead-letter queue
        assert [m.body for m in q.messages.values()] == ["a"] and dlq.messages == {}

    run(tmp_path, test)
