"""DynamoDB tables and items on SQLite, with group commit (the same writer-thread design as sqs_sqlite.py).

The engine (services/dynamodb) keeps every table's items in memory and writes through to this store. A write
is a job for one writer thread that owns its connection; the thread commits every job waiting in ONE
transaction (one WAL fsync) and then resolves their futures, so an acknowledged write survives kill -9. A job
that writes several items (a transaction, a batch) is one job: its items commit together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lamina.store.group_commit import GroupCommitWriter

# (table, pk, sk, body): body None deletes the item
ItemWrite = tuple[str, str, str, dict[str, Any] | None]
# (stream ARN, sequence number, created, record)
StreamRecord = tuple[str, int, float, dict[str, Any]]


class DynamoStore(GroupCommitWriter):
    """Open after `SqliteStore` has migrated the database (tables from migration 0008)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous, "lamina-dynamodb-store")

    # -- loading (before the writer has work) ---------------------------------------------------
    def load(self) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
        tables = [json.loads(r[0]) for r in self._db.execute("SELECT body FROM dynamodb_tables").fetchall()]
        items = [
            (r[0], json.loads(r[1]))
            for r in self._db.execute("SELECT table_name, body FROM dynamodb_items ORDER BY table_name, pk, sk")
        ]
        return tables, items

    def load_records(self) -> list[StreamRecord]:
        return [
            (r[0], r[1], r[2], json.loads(r[3]))
            for r in self._db.execute("SELECT stream_arn, seq, created, body FROM dynamodb_stream_records ORDER BY seq")
        ]

    # -- tables ---------------------------------------------------------------------------------
    async def put_table(self, name: str, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        await self._write(lambda db: db.execute("INSERT OR REPLACE INTO dynamodb_tables VALUES (?, ?)", (name, text)))

    async def delete_table(self, name: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM dynamodb_tables WHERE name = ?", (name,))
            db.execute("DELETE FROM dynamodb_items WHERE table_name = ?", (name,))

        await self._write(work)

    # -- items ----------------------------------------------------------------------------------
    async def write_items(self, writes: Sequence[ItemWrite], records: Sequence[StreamRecord] = ()) -> None:
        """Puts and deletes, and the stream records describing them, all in one transaction."""
        puts = [(t, pk, sk, json.dumps(body, separators=(",", ":"))) for t, pk, sk, body in writes if body is not None]
        deletes = [(t, pk, sk) for t, pk, sk, body in writes if body is None]

        def work(db: sqlite3.Connection) -> None:
            if deletes:
                db.executemany("DELETE FROM dynamodb_items WHERE table_name = ? AND pk = ? AND sk = ?", deletes)
            if puts:
                db.executemany("INSERT OR REPLACE INTO dynamodb_items VALUES (?, ?, ?, ?)", puts)
            if rows:
                db.executemany("INSERT INTO dynamodb_stream_records VALUES (?, ?, ?, ?)", rows)

        rows = [(arn, seq, created, json.dumps(body, separators=(",", ":"))) for arn, seq, created, body in records]
        await self._write(work)

    async def trim_records(self, before: float) -> None:
        """Drops stream records older than the retention period."""
        await self._write(lambda db: db.execute("DELETE FROM dynamodb_stream_records WHERE created < ?", (before,)))
