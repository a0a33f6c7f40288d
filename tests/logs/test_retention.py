"""Retention is enforced by the sweeper on the project clock (virtual time: no sleeping)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lamina.clock import ManualClock
from lamina.logs.store import LogStore
from lamina.services.logs.engine import DAY_MS, SWEEP_INTERVAL, LogsEngine


def test_sweeper_deletes_events_older_than_retention(tmp_path: Path) -> None:
    async def body() -> None:
        clock = ManualClock()
        store = LogStore(tmp_path / "lamina.db", now=clock.time)
        store.start()
        engine = LogsEngine(store, clock, "us-east-1", "000000000000")
        try:
            engine.create_group("/kept", None, None)
            engine.create_group("/short", None, None)
            engine.set_retention("/short", 1)
            for group in ("/kept", "/short"):
                engine.create_stream(group, "s")
                now = engine.now_ms()
                answer = engine.put_events(group, "s", [{"timestamp": now, "message": "day 0"}])
                assert "rejectedLogEventsInfo" not in answer
            engine.start()
            clock.advance(DAY_MS / 2000)  # half a day: nothing is old enough
            await asyncio.sleep(0)
            assert len(store.events("/short", "s")) == 1
            engine.put_events("/short", "s", [{"timestamp": engine.now_ms(), "message": "day 0.5"}])
            clock.advance(DAY_MS / 2000 + SWEEP_INTERVAL)  # day 1 and a minute: the first event is over a day old
            for _ in range(3):
                await asyncio.sleep(0)
            assert [e.message for e in store.events("/short", "s")] == ["day 0.5"]
            assert [e.message for e in store.events("/kept", "s")] == ["day 0"]
            assert engine.swept_events == 1
            stream = engine.stream("/short", "s")
            assert stream.stored_bytes == len("day 0.5") + 16
            # An event older than the retention is refused as expired, not stored.
            old = engine.now_ms() - 2 * DAY_MS
            answer = engine.put_events("/short", "s", [{"timestamp": old, "message": "expired"}])
            assert answer["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
        finally:
            await engine.close()
            store.close()

    asyncio.run(body())
