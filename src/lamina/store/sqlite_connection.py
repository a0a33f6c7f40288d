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


class SqliteConnection:
    def __init__(self, path: Path, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
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
