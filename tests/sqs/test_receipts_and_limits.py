"""Receipt handles, the in-flight limit and QueueDeletedRecently in the engine, in virtual time (ManualClock)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lamina.clock import ManualClock
from lamina.errors import InvalidParameter, InvalidReceiptHandle, OverLimit, QueueDeletedRecently
from lamina.services.sqs.engine import SqsEngine
from tests.sqs.test_engine import ACCOUNT, REGION, _new, _queue, run


def test_a_name_is_free_again_sixty_seconds_after_delete(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, "gone")
        await engine.send(q, [_new("m")])
        await engine.delete(q)
        clock.advance(59.9)
        with pytest.raises(QueueDeletedRecently) as info:
            await _queue(engine, "gone")
        assert info.value.message == (
            "You must wait 60 seconds after deleting a queue before you can create another with the same name."
        )
        await _queue(engine, "other")  # other names are not affected
        clock.advance(0.1)
        again = await _queue(engine, "gone")
        assert again.messages == {}

    run(tmp_path, test)


def test_standard_queue_only_the_newest_handle_deletes(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="10")
        await engine.send(q, [_new("m")])
        [first] = await engine.receive(q, 1, None, 0)
        clock.advance(10)
        [second] = await engine.receive(q, 1, None, 0)
        await engine.delete_message(q, first.receipt_handle)  # succeeds, deletes nothing
        assert len(q.messages) == 1
        with pytest.raises(InvalidParameter, match="not available for visibility timeout change"):
            engine.change_visibility(q, first.receipt_handle, 0)
        clock.advance(10)  # the newest handle's timeout ran out: it still deletes on a standard queue
        await engine.delete_message(q, second.receipt_handle)
        assert q.messages == {}
        await engine.delete_message(q, second.receipt_handle)  # deleting again is no error

    run(tmp_path, test)


def test_fifo_queue_refuses_expired_and_older_handles(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, "f.fifo", FifoQueue="true", VisibilityTimeout="10")
        await engine.send(q, [_new("m", group="g")])
        [first] = await engine.receive(q, 1, None, 0)
        clock.advance(10)
        expired = (
            f"Value {first.receipt_handle} for parameter ReceiptHandle is invalid. "
            "Reason: The receipt handle has expired."
        )
        with pytest.raises(InvalidParameter) as info:
            await engine.delete_message(q, first.receipt_handle)
        assert info.value.message == expired
        [second] = await engine.receive(q, 1, None, 0)
        with pytest.raises(InvalidParameter, match="The receipt handle has expired"):
            await engine.delete_message(q, first.receipt_handle)
        engine.change_visibility(q, second.receipt_handle, 30)  # extended: still valid after the old timeout
        clock.advance(20)
        await engine.delete_message(q, second.receipt_handle)
        assert q.messages == {}

    run(tmp_path, test)


def test_change_after_expiry_changes_nothing(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="5")
        await engine.send(q, [_new("m")])
        [got] = await engine.receive(q, 1, None, 0)
        clock.advance(5)
        engine.change_visibility(q, got.receipt_handle, 100)
        assert q.counts(clock.time()) == (1, 0, 0)

    run(tmp_path, test)


def test_a_handle_of_another_queue_is_invalid(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        a, b = await _queue(engine, "a"), await _queue(engine, "b")
        await engine.send(a, [_new("m")])
        [got] = await engine.receive(a, 1, None, 0)
        with pytest.raises(InvalidReceiptHandle):
            await engine.delete_message(b, got.receipt_handle)
        assert len(a.messages) == 1

    run(tmp_path, test)


def test_handles_stay_valid_across_a_restart(tmp_path: Path) -> None:
    handles: list[str] = []

    async def fill(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="600")
        await engine.send(q, [_new("m")])
        handles.extend(r.receipt_handle for r in await engine.receive(q, 1, None, 0))

    async def check(engine: SqsEngine, clock: ManualClock) -> None:
        q = engine.get(REGION, ACCOUNT, "q")
        await engine.delete_message(q, handles[0])
        assert q.messages == {}

    run(tmp_path, fill)
    run(tmp_path, check)


def test_in_flight_limit(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        engine.in_flight_limit = 3
        q = await _queue(engine)
        await engine.send(q, [_new(f"m{i}") for i in range(5)])
        got = await engine.receive(q, 10, None, 0)
        assert len(got) == 3  # no more than the limit goes in flight
        with pytest.raises(OverLimit) as info:  # a short poll on a standard queue is told
            await engine.receive(q, 10, None, 0)
        assert info.value.message.startswith("Too many messages have been received without being deleted.")
        waiting = asyncio.ensure_future(engine.receive(q, 10, None, 5))  # a long poll just gets nothing
        await asyncio.sleep(0.01)
        clock.advance(5)
        assert await asyncio.wait_for(waiting, 1) == []
        await engine.delete_message(q, got[0].receipt_handle)
        assert len(await engine.receive(q, 10, None, 0)) == 1

        f = await _queue(engine, "f.fifo", FifoQueue="true")
        await engine.send(f, [_new(f"m{i}", group=f"g{i}") for i in range(5)])
        assert len(await engine.receive(f, 10, None, 0)) == 3
        assert await engine.receive(f, 10, None, 0) == []  # FIFO: no error, nothing more

    run(tmp_path, test)


def test_visibility_extends_to_twelve_hours_after_the_receive(tmp_path: Path) -> None:
    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        q = await _queue(engine, VisibilityTimeout="43200")
        await engine.send(q, [_new("m")])
        [got] = await engine.receive(q, 1, None, 0)
        clock.advance(100)
        engine.change_visibility(q, got.receipt_handle, 43100)  # exactly 12 hours after the receive
        with pytest.raises(InvalidParameter) as info:
            engine.change_visibility(q, got.receipt_handle, 43101)
        assert info.value.message == (
            "Value 43101 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the "
            "message is beyond the limit [43200 seconds]."
        )
        assert q.counts(clock.time()) == (0, 1, 0)

    run(tmp_path, test)


def test_a_handle_from_before_a_redrive_acts_on_nothing(tmp_path: Path) -> None:
    """A message moved to another queue and back starts its receive count again; a handle from its first
    stay must not become the newest receive's handle again."""

    async def test(engine: SqsEngine, clock: ManualClock) -> None:
        source = await _queue(engine, "src", VisibilityTimeout="10")
        other = await _queue(engine, "other", VisibilityTimeout="10")
        await engine.send(source, [_new("m")])
        [old] = await engine.receive(source, 1, None, 0)
        await engine.relocate(source, [(source.messages[next(iter(source.messages))], other)])
        await engine.relocate(other, [(other.messages[next(iter(other.messages))], source)])
        [new] = await engine.receive(source, 1, None, 0)
        assert new.receipt_handle != old.receipt_handle
        await engine.delete_message(source, old.receipt_handle)  # succeeds, deletes nothing
        assert len(source.messages) == 1
        await engine.delete_message(source, new.receipt_handle)
        assert source.messages == {}

    run(tmp_path, test)
