"""Start-up failures of `lamina serve` as one line that says what is wrong and what to do."""

from __future__ import annotations

import errno
import sqlite3

from lamina.config import Settings


def describe(exc: BaseException, settings: Settings) -> str | None:
    """The one-line explanation of a known start-up failure, or None when it is not one we know."""
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return _no_space(settings)
    if not isinstance(exc, OSError):
        return None
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {settings.port} on {settings.host} is already in use; stop the other server"
            " or choose another with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {settings.host}: the address is not on this machine; choose another with --host"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _no_space(settings)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        where = exc.filename or settings.data_dir
        return (
            f"the data directory {settings.data_dir} is not writable ({exc.strerror}: {where});"
            " fix its permissions or choose another with --data-dir"
        )
    return None


def _no_space(settings: Settings) -> str:
    return (
        f"no space left on the device holding the data directory {settings.data_dir};"
        " free some space or choose another with --data-dir"
    )
