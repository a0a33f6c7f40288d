"""Durable documents behind a small interface: SQLite (the embedded default) and an in-memory fake.

Every control-plane resource is a JSON document under (kind, key). Writes are committed before the
caller answers the client, so anything acknowledged survives a crash or kill -9. The same interface
is what a PostgreSQL backend implements for the multi-node mode.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from lamina.store.sqlite_connection import SqliteConnection

Document = dict[str, Any]


class DocumentStore(Protocol):
    def load(self, kind: str) -> dict[str, Document]: ...
    def put(self, kind: str, key: str, body: Document) -> None: ...
    def delete(self, kind: str, key: str) -> None: ...
    def close(self) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Groups writes: all of them are committed together, or none."""
        yield


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("lamina.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """The statements of a migration file: `--` comments dropped (they may contain ';'), split on ';'."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [statement for statement in code.split(";") if statement.strip()]


class SqliteStore(SqliteConnection):
    """SQLite in WAL mode. One connection, guarded by a lock, used from the event loop thread
    (control-plane writes are small and rare; the invoke path never touches the database)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, synchronous)
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, sql in _migrations():
                if version > current:
                    self._db.execute("BEGIN IMMEDIATE")
                    try:
                        for statement in _statements(sql):
                            self._db.execute(statement)
                        self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                        self._db.execute("COMMIT")
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def load(self, kind: str) -> dict[str, Document]:
        with self._lock:
            rows = self._db.execute("SELECT key, body FROM resources WHERE kind = ?", (kind,)).fetchall()
        return {key: json.loads(body) for key, body in rows}

    def put(self, kind: str, key: str, body: Document) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO resources (kind, key, body, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body, updated = excluded.updated",
                (kind, key, json.dumps(body, separators=(",", ":")), time.time()),
            )

    def delete(self, kind: str, key: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM resources WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class MemoryStore:
    """The in-memory fake for unit tests of one component. Documents are copied through JSON, so a
    test sees exactly what a real store would give back."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._pending: list[dict[tuple[str, str], str]] = []

    def load(self, kind: str) -> dict[str, Document]:
        return {k: json.loads(v) for (kd, k), v in self._data.items() if kd == kind}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        snapshot = dict(self._data)
        try:
            yield
        except BaseException:
            self._data = snapshot
            raise

    def put(self, kind: str, key: str, body: Document) -> None:
        self._data[(kind, key)] = json.dumps(body)

    def delete(self, kind: str, key: str) -> None:
        self._data.pop((kind, key), None)

    def close(self) -> None:
        pass
