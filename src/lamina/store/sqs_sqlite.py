"""SQS queues and messages on SQLite, with group commit.

The queue engine (services/sqs) keeps every queue in memory and writes through to this store. Writes are
jobs for one writer thread that owns its connection: it takes every job waiting, runs them in ONE
transaction and commits (one WAL fsync), then resolves their futures. A SendMessage awaits its commit, so an
acknowledged message survives kill -9; receive-state updates (visibility, receive count) are submitted
without waiting: after a crash a message may come back with a smaller receive count, never lost. Jobs run in
submission order, so a delete always follows the receive that preceded it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.store.group_commit import GroupCommitWriter


@dataclass(frozen=True)
class MessageRow:
    id: str
    queue_arn: str
    seq: int
    body: dict[str, Any]  # the immutable part, as the engine serialises it
    visible_at: float
    receive_count: int
    first_receive: float | None


class SqsStore(GroupCommitWriter):
    """Open after `SqliteStore` has migrated the database (tables from migration 0003)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous, "lamina-sqs-store")

    # -- loading (before the writer has work) ---------------------------------------------------
    def load(self) -> tuple[list[dict[str, Any]], list[MessageRow]]:
        queues = [json.loads(r[0]) for r in self._db.execute("SELECT body FROM sqs_queues").fetchall()]
        messages = [
            MessageRow(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6])
            for r in self._db.execute(
                "SELECT id, queue_arn, seq, body, visible_at, receive_count, first_receive FROM sqs_messages "
                "ORDER BY queue_arn, seq"
            )
        ]
        return queues, messages

    # -- queues ---------------------------------------------------------------------------------
    async def put_queue(self, arn: str, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        await self._write(lambda db: db.execute("INSERT OR REPLACE INTO sqs_queues VALUES (?, ?)", (arn, text)))

    async def delete_queue(self, arn: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sqs_queues WHERE arn = ?", (arn,))
            db.execute("DELETE FROM sqs_messages WHERE queue_arn = ?", (arn,))

        await self._write(work)

    async def purge(self, arn: str) -> None:
        await self._write(lambda db: db.execute("DELETE FROM sqs_messages WHERE queue_arn = ?", (arn,)))

    # -- messages -------------------------------------------------------------------------------
    async def put_messages(self, rows: Sequence[MessageRow]) -> None:
        values = [
            (r.id, r.queue_arn, r.seq, json.dumps(r.body), r.visible_at, r.receive_count, r.first_receive) for r in rows
        ]
        await self._write(lambda db: db.executemany("INSERT INTO sqs_messages VALUES (?,?,?,?,?,?,?)", values))

    def update_receipts(self, updates: Sequence[tuple[str, float, int, float | None]]) -> None:
        """(id, visible_at, receive_count, first_receive) per message; not awaited (see the module doc)."""
        values = [(v, c, f, i) for i, v, c, f in updates]
        self._write_later(
            lambda db: db.executemany(
                "UPDATE sqs_messages SET visible_at = ?, receive_count = ?, first_receive = ? WHERE id = ?", values
            )
        )

    async def move(self, moves: Sequence[tuple[str, str, int, dict[str, Any]]]) -> None:
        """Redrive to a dead-letter queue, (id, queue, seq, body) each, in one transaction: the receive count
        and first receive carry over, as on AWS, and the body is rewritten for the system attributes the move
        adds (DeadLetterQueueSourceArn)."""
        values = [(arn, seq, json.dumps(body), message_id) for message_id, arn, seq, body in moves]
        await self._write(
            lambda db: db.executemany(
                "UPDATE sqs_messages SET queue_arn = ?, seq = ?, visible_at = 0, body = ? WHERE id = ?", values
            )
        )

    async def relocate(self, moves: Sequence[tuple[str, str, int, dict[str, Any]]]) -> None:
        """A message move task's batch, (id, queue, seq, body) each, in one transaction: every message changes
        queue with its receive state started afresh, or none does."""
        values = [(arn, seq, json.dumps(body), message_id) for message_id, arn, seq, body in moves]
        await self._write(
            lambda db: db.executemany(
                "UPDATE sqs_messages SET queue_arn = ?, seq = ?, visible_at = 0, body = ?, receive_count = 0, "
                "first_receive = NULL WHERE id = ?",
                values,
            )
        )

    async def delete_messages(self, ids: Sequence[str]) -> None:
        values = [(i,) for i in ids]
        await self._write(lambda db: db.executemany("DELETE FROM sqs_messages WHERE id = ?", values))

    def delete_messages_later(self, ids: Sequence[str]) -> None:
        values = [(i,) for i in ids]
        self._write_later(lambda db: db.executemany("DELETE FROM sqs_messages WHERE id = ?", values))
