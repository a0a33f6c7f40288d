"""The checksums S3 takes and gives: CRC32, CRC32C, CRC64NVME, SHA1, SHA256 (base64 of the big-endian digest),
and the MD5 that is a single-part object's ETag. CRC32 comes from zlib; CRC32C and CRC64NVME are table-driven
here (the standard library has neither, and botocore computes them only with the optional CRT installed)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


def _table(poly: int, bits: int) -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << bits) - 1))
    return table


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


class _Crc32:
    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


class _ReflectedCrc:
    def __init__(self, table: list[int], bits: int) -> None:
        self._table = table
        self._bits = bits
        self._mask = (1 << bits) - 1
        self._crc = self._mask

    def update(self, data: bytes) -> None:
        crc, table = self._crc, self._table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self) -> bytes:
        return (self._crc ^ self._mask).to_bytes(self._bits // 8, "big")


def hasher(algorithm: str) -> Hasher:
    name = algorithm.upper()
    if name == "CRC32":
        return _Crc32()
    if name == "CRC32C":
        return _ReflectedCrc(_CRC32C, 32)
    if name == "CRC64NVME":
        return _ReflectedCrc(_CRC64NVME, 64)
    if name == "SHA1":
        return hashlib.sha1()
    if name == "SHA256":
        return hashlib.sha256()
    raise ValueError(algorithm)


def encoded(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
