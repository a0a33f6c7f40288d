"""Kinesis streams and records, and stream event source mapping checkpoints, on SQLite (tables of migration 0013).

The same writer-thread design as dynamodb_sqlite.py: every write is a job for one thread that owns its
connection and commits every waiting job in ONE transaction, then resolves their futures, so an acknowledged
PutRecords (or a checkpoint) survives kill -9. A PutRecords is one job: its records commit together.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lamina.store.group_commit import commit_jobs, take_batch

Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any] | None]
_STOP: Any = object()
# (stream name, shard id, seq, arrival, partition key, data)
KinesisRecord = tuple[str, str, int, float, str, bytes]


class KinesisStore:
    """Open after `SqliteStore` has migrated the database."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lamina-kinesis-store", daemon=True)
        self._thread.start()

    # -- loading (before the writer has work) ---------------------------------------------------
    def load_streams(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._db.execute("SELECT body FROM kinesis_streams")]

    def load_records(self) -> list[KinesisRecord]:
        rows = self._db.execute(
            "SELECT stream_name, shard_id, seq, arrival, partition_key, data FROM kinesis_records ORDER BY seq"
        )
        return [(r[0], r[1], r[2], r[3], r[4], bytes(r[5])) for r in rows]

    def load_checkpoints(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute("SELECT mapping_uuid, shard_id, position FROM stream_checkpoints")
        return {(r[0], r[1]): r[2] for r in rows}

    # -- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch, stop = take_batch(self._jobs, _STOP)
            commit_jobs(self._db, batch)
            if stop:
                break
        self._db.close()

    async def _write(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put((work, fut))
        await fut

    # -- streams --------------------------------------------------------------------------------
    async def put_stream(self, name: str, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        await self._write(lambda db: db.execute("INSERT OR REPLACE INTO kinesis_streams VALUES (?, ?)", (name, text)))

    async def delete_stream(self, name: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM kinesis_streams WHERE name = ?", (name,))
            db.execute("DELETE FROM kinesis_records WHERE stream_name = ?", (name,))

        await self._write(work)

    # -- records --------------------------------------------------------------------------------
    async def put_records(self, records: Sequence[KinesisRecord]) -> None:
        rows = list(records)
        await self._write(lambda db: db.executemany("INSERT INTO kinesis_records VALUES (?, ?, ?, ?, ?, ?)", rows))

    async def trim_records(self, stream_name: str, before: float) -> None:
        """Drops a stream's records that arrived before `before` (its retention period ended)."""
        await self._write(
            lambda db: db.execute(
                "DELETE FROM kinesis_records WHERE stream_name = ? AND arrival < ?", (stream_name, before)
            )
        )

    # -- stream event source mapping checkpoints ------------------------------------------------
    async def checkpoint(self, mapping_uuid: str, shard_id: str, position: int) -> None:
        await self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO stream_checkpoints VALUES (?, ?, ?)", (mapping_uuid, shard_id, position)
            )
        )

    async def forget_checkpoints(self, mapping_uuid: str) -> None:
        await self._write(
            lambda db: db.execute("DELETE FROM stream_checkpoints WHERE mapping_uuid = ?", (mapping_uuid,))
        )

    async def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._jobs.put((_STOP, None))
        await asyncio.to_thread(self._thread.join)
