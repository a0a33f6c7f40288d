"""Message move tasks in virtual time (ManualClock): redrive back to the source queues or to a destination, the
rate, cancelling, validation, failure, and resuming after a restart without losing or duplicating a message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lamina.clock import ManualClock
from lamina.errors import ArnNotFound, InvalidParameter
from lamina.services.sqs.engine import SqsEngine
from lamina.services.sqs.move_tasks import MoveTask, MoveTasks, MoveTasksApi, Status
from lamina.services.sqs.queue import Queue
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore
from lamina.types import CallContext
from tests.sqs.test_engine import ACCOUNT, REGION, _new, _queue

T = TypeVar("T")
CTX = CallContext(REGION, ACCOUNT, "req", "http://localhost")


def run(tmp_path: Path, test: Callable[[SqsEngine, MoveTasks, ManualClock], Awaitable[T]]) -> T:
    async def main() -> T:
        documents = SqliteStore(tmp_path / "lamina.db", "OFF")
        store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        engine = SqsEngine(store, clock)
        engine.load()
        moves = MoveTasks(engine, documents, clock)
        moves.load()
        moves.start()
        try:
            return await test(engine, moves, clock)
        finally:
            await moves.close()
            await engine.close()
            await store.close()
            documents.close()

    return asyncio.run(asyncio.wait_for(main(), 10))


async def until(check: Callable[[], bool]) -> None:
    """Lets the task's runner work until `check` holds: moves await the store's writer thread, so this yields
    to the loop (a wait for I/O, not for time: virtual time moves only by `clock.advance`)."""
    for _ in range(5000):
        if check():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the move task did not get there")


def waiting(clock: ManualClock) -> bool:
    """The runner is asleep on the virtual clock (between a rate's seconds)."""
    return bool(clock._sleepers)


async def _dlq_with_sources(engine: SqsEngine, count: int = 5) -> tuple[Queue, Queue]:
    """A source queue whose `count` messages were redriven to its dead-letter queue, plus one message sent to
    the dead-letter queue directly."""
    dlq = await _queue(engine, "dlq")
    src = await _queue(engine, "src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}))
    await engine.send(src, [_new(f"m{i}") for i in range(count)])
    assert len(await engine.receive(src, 10, 0, 0)) == count
    assert await engine.receive(src, 10, 0, 0) == []  # all past maxReceiveCount: all redriven
    await engine.send(dlq, [_new("direct")])
    return src, dlq


def test_redrive_back_to_the_source_queue(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        src, dlq = await _dlq_with_sources(engine)
        task = moves.start_task(dlq.arn, None, None)
        assert task.to_move == 5 and task.entry()["Status"] == "RUNNING"
        await until(lambda: task.status is not Status.RUNNING)
        assert task.status is Status.COMPLETED and task.moved == 5
        assert sorted(m.body for m in src.messages.values()) == [f"m{i}" for i in range(5)]
        assert all(m.receive_count == 0 and "DeadLetterQueueSourceArn" not in m.system for m in src.messages.values())
        assert [m.body for m in dlq.messages.values()] == ["direct"]  # it has no source to go back to
        got = await engine.receive(src, 10, 30, 0)  # receivable again, counted from 1
        assert len(got) == 5 and {r.message.receive_count for r in got} == {1}
        [entry] = moves.list_tasks(dlq.arn, 10)
        assert entry.entry() == {
            "Status": "COMPLETED",
            "SourceArn": dlq.arn,
            "ApproximateNumberOfMessagesMoved": 5,
            "ApproximateNumberOfMessagesToMove": 5,
            "StartedTimestamp": int(clock.time() * 1000),
        }

    run(tmp_path, test)


def test_rate_and_destination(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        _, dlq = await _dlq_with_sources(engine, 7)
        other = await _queue(engine, "other")
        task = moves.start_task(dlq.arn, other.arn, 3)
        await until(lambda: waiting(clock))
        assert task.moved == 3  # the first second's worth
        await engine.send(dlq, [_new("late")])  # sent after the start: not part of the task
        clock.advance(1)
        await until(lambda: waiting(clock) and task.moved > 3)
        assert task.moved == 6
        clock.advance(1)
        await until(lambda: waiting(clock) and task.moved > 6)
        clock.advance(1)
        await until(lambda: task.status is not Status.RUNNING)
        assert task.status is Status.COMPLETED and task.moved == task.to_move == 8  # 7 redriven + "direct"
        assert [m.body for m in dlq.messages.values()] == ["late"]
        assert len(other.messages) == 8
        assert task.entry()["DestinationArn"] == other.arn and task.entry()["MaxNumberOfMessagesPerSecond"] == 3

    run(tmp_path, test)


def test_cancel(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        src, dlq = await _dlq_with_sources(engine)
        task = moves.start_task(dlq.arn, None, 2)
        await until(lambda: waiting(clock))
        assert moves.cancel(task.handle).status is Status.CANCELLING
        clock.advance(1)
        await until(lambda: task.status is not Status.CANCELLING)
        assert task.status is Status.CANCELLED and task.moved == 2
        assert len(src.messages) == 2 and len(dlq.messages) == 4  # what moved stays moved
        assert "TaskHandle" not in task.entry()
        with pytest.raises(InvalidParameter, match="RUNNING"):
            moves.cancel(task.handle)
        with pytest.raises(InvalidParameter, match="TaskHandle"):
            moves.cancel("not a handle")
        with pytest.raises(ArnNotFound, match="Task does not exist"):
            moves.cancel(MoveTask("nope", dlq.arn, None, None, 0, 0, 0).handle)
        second = moves.start_task(dlq.arn, None, None)  # a new task may start once the old one ended
        await until(lambda: second.status is not Status.RUNNING)
        assert second.status is Status.COMPLETED and len(src.messages) == 5

    run(tmp_path, test)


def test_validation_changes_nothing(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        src, dlq = await _dlq_with_sources(engine)
        missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing"
        fifo = await _queue(engine, "f.fifo", FifoQueue="true")
        cases: list[tuple[str, str | None, int | None, type[Exception], str]] = [
            (dlq.arn, fifo.arn, None, InvalidParameter, "same queue type"),
            ("dlq", None, None, InvalidParameter, "You must use this format to specify the SourceArn"),
            (dlq.arn, "invalid", None, InvalidParameter, "You must use this format to specify the DestinationArn"),
            (missing, None, None, ArnNotFound, "SourceArn parameter doesn't exist"),
            (src.arn, None, None, InvalidParameter, "Source queue must be configured as a Dead Letter Queue."),
            (dlq.arn, missing, None, ArnNotFound, "DestinationArn parameter doesn't exist"),
            (dlq.arn, dlq.arn, None, InvalidParameter, "cannot be the same"),
            (dlq.arn, None, 0, InvalidParameter, "between 1 and 500"),
            (dlq.arn, None, 501, InvalidParameter, "between 1 and 500"),
        ]
        for source, destination, rate, error, text in cases:
            with pytest.raises(error, match=text):
                moves.start_task(source, destination, rate)
        assert moves.list_tasks(dlq.arn, 10) == [] and len(dlq.messages) == 6
        moves.start_task(dlq.arn, None, 1)
        with pytest.raises(InvalidParameter, match="Only one active task is allowed"):
            moves.start_task(dlq.arn, None, None)
        api = MoveTasksApi(moves)
        with pytest.raises(InvalidParameter, match="MaxResults"):
            api.list_message_move_tasks(CTX, {"SourceArn": dlq.arn, "MaxResults": 11})
        with pytest.raises(ArnNotFound):
            api.list_message_move_tasks(CTX, {"SourceArn": missing})
        assert len(api.list_message_move_tasks(CTX, {"SourceArn": dlq.arn})["Results"]) == 1

    run(tmp_path, test)


def test_a_vanished_destination_fails_the_task(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        src, dlq = await _dlq_with_sources(engine)
        task = moves.start_task(dlq.arn, None, 2)
        await until(lambda: waiting(clock))
        await engine.delete(src)
        clock.advance(1)
        await until(lambda: task.status is not Status.RUNNING)
        assert task.status is Status.FAILED and task.moved == 2
        assert task.entry()["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue"
        assert len(dlq.messages) == 4  # the rest stay in the dead-letter queue

    run(tmp_path, test)


def test_a_restart_resumes_the_task_and_keeps_every_message_once(tmp_path: Path) -> None:
    handles: list[str] = []

    async def begin(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> None:
        _, dlq = await _dlq_with_sources(engine)
        task = moves.start_task(dlq.arn, None, 2)
        handles.append(task.handle)
        await until(lambda: waiting(clock))
        assert task.moved == 2

    async def resume(engine: SqsEngine, moves: MoveTasks, clock: ManualClock) -> Any:
        src, dlq = engine.get(REGION, ACCOUNT, "src"), engine.get(REGION, ACCOUNT, "dlq")
        assert len(src.messages) + len(dlq.messages) == 6
        [task] = moves.list_tasks(dlq.arn, 10)
        assert task.status is Status.RUNNING and task.handle == handles[0]
        while task.status is Status.RUNNING:
            await until(lambda: waiting(clock) or task.status is not Status.RUNNING)
            clock.advance(1)
        assert task.status is Status.COMPLETED and task.moved == 5
        assert sorted(m.body for m in src.messages.values()) == [f"m{i}" for i in range(5)]
        assert [m.body for m in dlq.messages.values()] == ["direct"]

    run(tmp_path, begin)
    run(tmp_path, resume)
