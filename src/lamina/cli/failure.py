"""Start-up failures of `lamina serve` as one line that says what is wrong and what to do."""

from __future__ import annotations

import errno

from lamina.config import Settings
from lamina.store.disk_space import is_full


def describe(exc: BaseException, settings: Settings) -> str | None:
    """The one-line explanation of a known start-up failure, or None when it is not one we know."""
    if is_full(exc):  # ENOSPC, EDQUOT or SQLITE_FULL: the same test the running server makes
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
