"""Running out of disk: telling a full disk apart from other failures, and the reserve that lets deletes commit.

A write that fails because the data directory's file system is full (`ENOSPC`/`EDQUOT` from the OS,
`SQLITE_FULL` from SQLite) is reported as `StorageFull`: each service's own 500 shape, saying that the disk is
full (never "Could not unzip uploaded file" or a bare "Internal error").

Freeing space needs writes too: a DELETE in SQLite appends pages to the WAL. So the data directory holds a
reserve file of a few MB. The first write that fails for lack of space releases it (the space is then
there for deletes) and puts the guard in the full state: while full, only operations that free or read
state are admitted (`admits`); everything that would add data is refused with `StorageFull` before it is
attempted, so the released reserve is kept for DeleteQueue, PurgeQueue, DeleteMessage, DeleteFunction,
DeleteTopic... Every refused or failed request re-checks the free space: once twice the reserve is free again,
the reserve is re-created and writes are admitted again.

Invariants: nothing is answered 200/202 unless its write committed (a refused write is answered 500, so
a client retries it); the reserve is never counted as free space.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from pathlib import Path

from lamina.errors import StorageFull

log = logging.getLogger(__name__)

RESERVE_BYTES = 8 * 1024 * 1024
RESERVE_NAME = "space-reserve"
FULL_MESSAGE = (
    "Lamina's data directory is out of space (insufficient storage): the request was not stored. "
    "Free some disk space, then retry."
)

# Operations that free or only read state: admitted while the disk is full.
_FREEING = ("Delete", "Purge", "Remove", "Untag", "Unsubscribe", "CancelMessageMoveTask")
_READING = ("Get", "List", "Describe", "Receive", "Check", "Invoke")  # an async Invoke: AsyncInvoker.submit


def is_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the file system is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StorageFull):
            return True
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.Error):
            code = getattr(seen, "sqlite_errorcode", None)
            if code == sqlite3.SQLITE_FULL or "database or disk is full" in str(seen):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def storage_full() -> StorageFull:
    return StorageFull(FULL_MESSAGE)


class DiskSpace:
    """The reserve file in the data directory and the full state it guards (one per server)."""

    def __init__(self, data_dir: Path, reserve_bytes: int = RESERVE_BYTES) -> None:
        self._path = data_dir / RESERVE_NAME
        self._dir = data_dir
        self.reserve_bytes = reserve_bytes
        self._lock = threading.Lock()
        self.full = False
        self.released = 0  # how many times the reserve was released (tests read it)
        if not self._create():
            self.full = True

    def _create(self) -> bool:
        """Writes the reserve (or finds it whole); False when there is no room for it."""
        if self.reserve_bytes <= 0:
            return True
        try:
            if self._path.exists() and self._path.stat().st_size >= self.reserve_bytes:
                return True
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)  # real blocks, not a sparse file
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if not is_full(exc):
                raise
            self._path.unlink(missing_ok=True)
            return False
        return True

    def _free(self) -> int:
        st = os.statvfs(self._dir)
        return st.f_bavail * st.f_frsize

    def failed(self, exc: BaseException) -> StorageFull | None:
        """`StorageFull` when `exc` is a full disk (the reserve is released then), else None."""
        if not is_full(exc):
            return None
        with self._lock:
            if not self.full:
                self.full = True
                self.released += 1
                self._path.unlink(missing_ok=True)
                log.error("the data directory %s is full: released the reserve; only deletes are served", self._dir)
        return storage_full()

    def recovered(self) -> bool:
        """Re-creates the reserve when space has returned; whether writes are admitted again."""
        with self._lock:
            if not self.full:
                return True
            if self._free() < 2 * self.reserve_bytes or not self._create():
                return False
            self.full = False
            log.warning("the data directory %s has space again: writes are served", self._dir)
            return True

    def admits(self, operation: str) -> bool:
        """Whether `operation` may run now: always when there is space, else only what frees or reads."""
        if not self.full or operation.startswith(_FREEING + _READING):
            return True
        return self.recovered()

    def check(self, operation: str) -> None:
        if not self.admits(operation):
            raise storage_full()

    def check_growth(self) -> None:
        """Raises `StorageFull` while full (a write that adds data, such as an accepted async event)."""
        if self.full and not self.recovered():
            raise storage_full()
