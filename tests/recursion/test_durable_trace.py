"""An async event keeps the request chain it came with across a restart (migration 0011), so a loop through
SNS is still counted after a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lamina.invoke.event_queue import QueuedEvent
from tests.async_invoke.test_event_queue import sqlite_queue

HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:16"


def test_trace_header_survives_reopening(tmp_path: Path) -> None:
    async def main() -> None:
        arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
        queue = sqlite_queue(tmp_path / "lamina.db")
        await queue.put(
            [
                QueuedEvent("e1", "us-east-1/f", arn, "r1", b"{}", 100.0, 100.0, trace_header=HEADER),
                QueuedEvent("e2", "us-east-1/f", arn, "r2", b"{}", 100.0, 100.0),
            ]
        )
        await queue.close()  # nothing but the database file carries the events over
        reopened = sqlite_queue(tmp_path / "lamina.db")
        try:
            leased = {e.id: e.trace_header for e in await reopened.lease(now=150.0, limit=10, lease_s=60.0)}
        finally:
            await reopened.close()
        assert leased == {"e1": HEADER, "e2": None}

    asyncio.run(main())
