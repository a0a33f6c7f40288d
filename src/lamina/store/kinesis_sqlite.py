"""Kinesis streams and records, and stream event source mappings' checkpoints (tables of migration 0013) and
LastProcessingResult (migration 0016), on SQLite.

The same writer-thread design as dynamodb_sqlite.py: every write is a job for one thread that owns its
connection and commits every waiting job in ONE transaction, then resolves their futures, so an acknowledged
PutRecords (or a checkpoint) survives kill -9. A PutRecords is one job: its records commit together.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lamina.store.group_commit import GroupCommitWriter

# (stream name, shard id, seq, arrival, partition key, data)
KinesisRecord = tuple[str, str, int, float, str, bytes]


class KinesisStore(GroupCommitWriter):
    """Open after `SqliteStore` has migrated the database."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous, "lamina-kinesis-store")

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

    def load_results(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT mapping_uuid, result FROM stream_processing_results").fetchall())

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

    async def record_result(self, mapping_uuid: str, result: str) -> None:
        await self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO stream_processing_results VALUES (?, ?)", (mapping_uuid, result)
            )
        )

    async def forget_checkpoints(self, mapping_uuid: str) -> None:
        """Everything kept of a deleted mapping: its checkpoints and its LastProcessingResult."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM stream_checkpoints WHERE mapping_uuid = ?", (mapping_uuid,))
            db.execute("DELETE FROM stream_processing_results WHERE mapping_uuid = ?", (mapping_uuid,))

        await self._write(work)
