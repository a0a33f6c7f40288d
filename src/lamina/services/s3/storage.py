"""Object bytes in files under `<data dir>/s3/`: written to `tmp/`, fsynced, renamed into `objects/` (and the
directory fsynced) before the metadata that names them is committed. An upload cut off half-way leaves only a
temp file, removed at the next start; a file no committed row names (a crash between rename and commit) is
removed at start too. Files are immutable once named: a copy is a hard link, reads stream in slices."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.services.s3.checksums import Hasher, encoded, hasher

READ_SLICE = 256 * 1024


@dataclass
class Written:
    file: str
    size: int
    md5: bytes
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm → base64 value


class ObjectFiles:
    def __init__(self, root: Path) -> None:
        self._objects = root / "objects"
        self._tmp = root / "tmp"
        self._objects.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)

    def sweep(self, keep: set[str]) -> int:
        """Removes temp files and object files no row names; how many went."""
        gone = 0
        for entry in (*self._tmp.iterdir(), *(e for e in self._objects.iterdir() if e.name not in keep)):
            entry.unlink(missing_ok=True)
            gone += 1
        return gone

    def path(self, name: str) -> Path:
        return self._objects / name

    def begin(self) -> PendingFile:
        return PendingFile(self._tmp / secrets.token_hex(16), self._objects)

    def link(self, name: str) -> str:
        """A second name for an existing file (a copy shares the immutable bytes)."""
        new = secrets.token_hex(16)
        os.link(self._objects / name, self._objects / new)
        return new

    def remove(self, name: str | None) -> None:
        if name:
            (self._objects / name).unlink(missing_ok=True)

    async def read(self, name: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) of a file, a slice at a time (the reader holds at most one slice)."""
        with open(self._objects / name, "rb") as handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                data = handle.read(READ_SLICE if left is None else min(READ_SLICE, left))
                if not data:
                    return
                if left is not None:
                    left -= len(data)
                yield data
                await asyncio.sleep(0)


class PendingFile:
    """A file being written: its MD5 and checksums as it goes; `commit` makes it durable and named."""

    def __init__(self, path: Path, objects: Path) -> None:
        self._path = path
        self._objects = objects
        self._handle = open(path, "wb")  # noqa: SIM115  (closed by commit or discard)
        self._md5 = hashlib.md5()
        self._hashers: dict[str, Hasher] = {}
        self._sha256: Any = None
        self.size = 0

    def hash_sha256(self) -> None:
        self._sha256 = hashlib.sha256()

    def sha256_hex(self) -> str:
        return "" if self._sha256 is None else str(self._sha256.hexdigest())

    def hash_with(self, algorithms: Iterable[str]) -> None:
        for algorithm in algorithms:
            self._hashers[algorithm] = hasher(algorithm)

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._md5.update(data)
        for h in self._hashers.values():
            h.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        self.size += len(data)

    @property
    def md5(self) -> bytes:
        return self._md5.digest()

    def checksums(self) -> dict[str, str]:
        return {name: encoded(h.digest()) for name, h in self._hashers.items()}

    async def commit(self) -> Written:
        self._handle.flush()
        await asyncio.to_thread(os.fsync, self._handle.fileno())
        self._handle.close()
        name = secrets.token_hex(16)
        os.replace(self._path, self._objects / name)
        fd = os.open(self._objects, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return Written(name, self.size, self.md5, self.checksums())

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self._path.unlink(missing_ok=True)
