"""One SQLite connection in WAL mode, guarded by a lock, with transactions that nest.

`SqliteStore` (documents) and the stores that keep their own tables in the same file (S3) share this: an inner
`transaction()` joins the outer one, so a caller can group several store calls into one commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_database(path: Path, synchronous: str = "FULL", busy_timeout_ms: int = 10000) -> sqlite3.Connection:
    """A connection to the database file as every store opens it: autocommit (transactions are explicit),
    usable from the store's writer thread, WAL journal, the given synchronous level and busy timeout."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return db


class SqliteConnection:
    def __init__(self, path: Path, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> None:
        self._db = open_database(path, synchronous, busy_timeout_ms)
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Groups writes: all of them are committed together, or none; nested calls join the outer one."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")
