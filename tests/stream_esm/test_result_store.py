"""The stream mappings' LastProcessingResult in the store (migration 0016, KinesisStore): written, overwritten,
read back by a new connection, and forgotten with the mapping's checkpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lamina.store.documents import SqliteStore
from lamina.store.kinesis_sqlite import KinesisStore


def test_results_are_stored_and_forgotten_with_the_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "lamina.db"
    migrated = SqliteStore(path)
    assert migrated.schema_version >= 16
    migrated.close()

    async def write() -> None:
        store = KinesisStore(path)
        assert store.load_results() == {}
        await store.record_result("a", "OK")
        await store.record_result("a", "PROBLEM: Function call failed")  # the latest one replaces it
        await store.record_result("b", "OK")
        await store.checkpoint("b", "shardId-000000000000", 4)
        await store.close()

    asyncio.run(write())
    store = KinesisStore(path)  # as after a restart
    assert store.load_results() == {"a": "PROBLEM: Function call failed", "b": "OK"}

    async def forget() -> None:
        await store.forget_checkpoints("b")
        await store.close()

    asyncio.run(forget())
    again = KinesisStore(path)
    assert again.load_results() == {"a": "PROBLEM: Function call failed"}
    assert again.load_checkpoints() == {}
    asyncio.run(again.close())
