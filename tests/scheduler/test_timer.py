"""The shared timer on a ManualClock: deadlines fire in order, once, and can be moved or cancelled."""

from __future__ import annotations

import asyncio

from lamina.clock import ManualClock
from lamina.schedules.timer import Timer


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_deadlines_fire_in_order_and_can_be_moved_or_cancelled() -> None:
    async def main() -> None:
        clock = ManualClock(1000.0)
        fired: list[tuple[str, float]] = []

        async def on_due(key: str) -> None:
            fired.append((key, clock.time()))

        timer = Timer(clock, on_due)
        timer.start()
        try:
            timer.set("b", 1020.0)
            timer.set("a", 1010.0)
            timer.set("gone", 1005.0)
            timer.set("moved", 1001.0)
            timer.set("gone", None)
            timer.set("moved", 1030.0)
            assert timer.due_at("moved") == 1030.0 and timer.due_at("gone") is None
            for _ in range(40):
                clock.advance(1.0)
                await settle()
            assert fired == [("a", 1010.0), ("b", 1020.0), ("moved", 1030.0)]
            timer.set("now", clock.time())  # due at once
            await settle()
            assert fired[-1] == ("now", 1040.0)
        finally:
            await timer.close()

    asyncio.run(asyncio.wait_for(main(), 10))


def test_a_failing_callback_does_not_stop_the_timer() -> None:
    async def main() -> None:
        clock = ManualClock(0.0)
        fired: list[str] = []

        async def on_due(key: str) -> None:
            fired.append(key)
            if key == "bad":
                raise RuntimeError("boom")

        timer = Timer(clock, on_due)
        timer.start()
        try:
            timer.set("bad", 1.0)
            timer.set("good", 2.0)
            for _ in range(3):
                clock.advance(1.0)
                await settle()
            assert fired == ["bad", "good"]
        finally:
            await timer.close()

    asyncio.run(asyncio.wait_for(main(), 10))
