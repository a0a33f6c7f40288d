"""S3's metadata on SQLite (tables of migration 0005): buckets, object versions, multipart uploads, parts.

Object bytes are files (services/s3/storage.py); a row is written only after its file is durable, in one
transaction with whatever it replaces, and committed before the caller answers: an acknowledged object
survives kill -9, and an interrupted upload never has a row. Keys compare as SQLite's BINARY collation
compares them, byte by byte of their UTF-8, which is the order S3 lists in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.store.sqlite_connection import SqliteConnection

Body = dict[str, Any]


@dataclass(frozen=True)
class VersionRow:
    key: str
    seq: int
    version_id: str
    latest: bool
    body: Body


def _row(r: tuple[Any, ...]) -> VersionRow:
    return VersionRow(r[0], r[1], r[2], bool(r[3]), json.loads(r[4]))


def _dump(body: Body) -> str:
    return json.dumps(body, separators=(",", ":"))


class S3Store(SqliteConnection):
    """Open after `SqliteStore` has migrated the database. One connection, used from the event loop."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous, busy_timeout_ms=10000)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- buckets --------------------------------------------------------------------------------
    def buckets(self) -> dict[str, Body]:
        with self._lock:
            rows = self._db.execute("SELECT name, body FROM s3_buckets ORDER BY name").fetchall()
        return {name: json.loads(body) for name, body in rows}

    def put_bucket(self, name: str, body: Body) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO s3_buckets (name, body) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                (name, _dump(body)),
            )

    def delete_bucket(self, name: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))

    def bucket_has_versions(self, name: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)).fetchone()
        return row is not None

    def bucket_has_uploads(self, name: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM s3_uploads WHERE bucket = ? LIMIT 1", (name,)).fetchone()
        return row is not None

    # -- notifications not yet delivered ------------------------------------------------------
    def add_outgoing(self, bodies: list[Body]) -> list[int]:
        """Queues notifications (inside the caller's transaction, with the change they tell of); their ids."""
        ids = []
        with self.transaction():
            for body in bodies:
                cursor = self._db.execute("INSERT INTO s3_outbox (body) VALUES (?)", (_dump(body),))
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def outgoing(self) -> list[tuple[int, Body]]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM s3_outbox ORDER BY id").fetchall()
        return [(i, json.loads(b)) for i, b in rows]

    def remove_outgoing(self, outgoing_id: int) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM s3_outbox WHERE id = ?", (outgoing_id,))

    # -- object versions ------------------------------------------------------------------------
    _COLUMNS = "key, seq, version_id, latest, body"

    def latest(self, bucket: str, key: str) -> VersionRow | None:
        with self._lock:
            r = self._db.execute(
                f"SELECT {self._COLUMNS} FROM s3_objects WHERE bucket = ? AND key = ? AND latest = 1", (bucket, key)
            ).fetchone()
        return None if r is None else _row(r)

    def version(self, bucket: str, key: str, version_id: str) -> VersionRow | None:
        with self._lock:
            r = self._db.execute(
                f"SELECT {self._COLUMNS} FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id),
            ).fetchone()
        return None if r is None else _row(r)

    def versions_of(self, bucket: str, key: str) -> list[VersionRow]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLUMNS} FROM s3_objects WHERE bucket = ? AND key = ? ORDER BY seq DESC", (bucket, key)
            ).fetchall()
        return [_row(r) for r in rows]

    def add_version(self, bucket: str, row: VersionRow) -> None:
        """`row` becomes the latest version of its key (inside the caller's transaction)."""
        with self.transaction():
            self._db.execute(
                "UPDATE s3_objects SET latest = 0 WHERE bucket = ? AND key = ? AND latest = 1", (bucket, row.key)
            )
            self._db.execute(
                "INSERT INTO s3_objects (bucket, key, seq, version_id, latest, body) VALUES (?, ?, ?, ?, 1, ?)",
                (bucket, row.key, row.seq, row.version_id, _dump(row.body)),
            )

    def update_version(self, bucket: str, key: str, seq: int, body: Body) -> None:
        """Rewrites one version's document (its ACL, say); its bytes and place among the versions stay."""
        with self.transaction():
            self._db.execute(
                "UPDATE s3_objects SET body = ? WHERE bucket = ? AND key = ? AND seq = ?",
                (_dump(body), bucket, key, seq),
            )

    def remove_version(self, bucket: str, key: str, seq: int) -> None:
        """Deletes one version; if it was the latest, the newest one left becomes latest."""
        with self.transaction():
            self._db.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND seq = ?", (bucket, key, seq))
            self._db.execute(
                "UPDATE s3_objects SET latest = 1 WHERE bucket = ? AND key = ? AND seq = "
                "(SELECT MAX(seq) FROM s3_objects WHERE bucket = ? AND key = ?) AND NOT EXISTS "
                "(SELECT 1 FROM s3_objects WHERE bucket = ? AND key = ? AND latest = 1)",
                (bucket, key, bucket, key, bucket, key),
            )

    def next_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM s3_objects").fetchone()
        return int(row[0] or 0) + 1

    def scan_latest(self, bucket: str, prefix: str, after: str) -> Iterator[VersionRow]:
        """Current versions (delete markers included) with keys > `after` starting with `prefix`, in key order."""
        start = max(after, prefix) if prefix else after
        with self._lock:
            cursor = self._db.execute(
                f"SELECT {self._COLUMNS} FROM s3_objects WHERE bucket = ? AND latest = 1 AND key >= ? ORDER BY key",
                (bucket, start),
            )
            rows = cursor.fetchmany(1000)
        while rows:
            for r in rows:
                row = _row(r)
                if row.key == after:
                    continue
                if prefix and not row.key.startswith(prefix):
                    return
                yield row
            with self._lock:
                rows = cursor.fetchmany(1000)

    def scan_versions(self, bucket: str, prefix: str, after_key: str) -> Iterator[VersionRow]:
        """Every version of keys >= `after_key` starting with `prefix`: by key, then newest first."""
        start = max(after_key, prefix) if prefix else after_key
        with self._lock:
            cursor = self._db.execute(
                f"SELECT {self._COLUMNS} FROM s3_objects WHERE bucket = ? AND key >= ? ORDER BY key, seq DESC",
                (bucket, start),
            )
            rows = cursor.fetchmany(1000)
        while rows:
            for r in rows:
                row = _row(r)
                if prefix and not row.key.startswith(prefix):
                    return
                yield row
            with self._lock:
                rows = cursor.fetchmany(1000)

    def files(self) -> set[str]:
        """Every object file a row names (what start-up keeps; the rest is debris of a crash)."""
        found: set[str] = set()
        with self._lock:
            for (body,) in self._db.execute("SELECT body FROM s3_objects"):
                name = json.loads(body).get("file")
                if name:
                    found.add(name)
            for (body,) in self._db.execute("SELECT body FROM s3_parts"):
                name = json.loads(body).get("file")
                if name:
                    found.add(name)
        return found

    # -- multipart uploads ----------------------------------------------------------------------
    def put_upload(self, upload_id: str, bucket: str, key: str, body: Body) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO s3_uploads (upload_id, bucket, key, body) VALUES (?, ?, ?, ?)",
                (upload_id, bucket, key, _dump(body)),
            )

    def upload(self, upload_id: str) -> tuple[str, str, Body] | None:
        with self._lock:
            r = self._db.execute(
                "SELECT bucket, key, body FROM s3_uploads WHERE upload_id = ?", (upload_id,)
            ).fetchone()
        return None if r is None else (r[0], r[1], json.loads(r[2]))

    def uploads(self, bucket: str) -> list[tuple[str, str, Body]]:
        """(upload id, key, body) of a bucket's uploads in progress, by key then initiation."""
        with self._lock:
            rows = self._db.execute(
                "SELECT upload_id, key, body FROM s3_uploads WHERE bucket = ?", (bucket,)
            ).fetchall()
        found = [(r[0], r[1], json.loads(r[2])) for r in rows]
        found.sort(key=lambda u: (u[1].encode(), u[2]["initiated"]))
        return found

    def delete_upload(self, upload_id: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
            self._db.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))

    def put_part(self, upload_id: str, number: int, body: Body) -> Body | None:
        """Records a part; returns the part it replaced (its file is the caller's to remove)."""
        with self.transaction():
            r = self._db.execute(
                "SELECT body FROM s3_parts WHERE upload_id = ? AND part = ?", (upload_id, number)
            ).fetchone()
            self._db.execute(
                "INSERT INTO s3_parts (upload_id, part, body) VALUES (?, ?, ?) "
                "ON CONFLICT (upload_id, part) DO UPDATE SET body = excluded.body",
                (upload_id, number, _dump(body)),
            )
        return None if r is None else json.loads(r[0])

    def parts(self, upload_id: str) -> dict[int, Body]:
        with self._lock:
            rows = self._db.execute(
                "SELECT part, body FROM s3_parts WHERE upload_id = ? ORDER BY part", (upload_id,)
            ).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}
