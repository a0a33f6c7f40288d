"""Safe intake of deployment packages (zip files).

A package is checked completely before anything is stored: it must be a readable zip, within AWS's
size limits, with no entry that escapes the code root (`../`, absolute paths, symlinks pointing out),
and no entry that inflates past its declared size (zip bombs). It is then extracted once, into a
folder named by its content hash, which execution environments mount read-only at /var/task.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import uuid
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

from lamina.errors import InvalidParameter, RequestTooLarge
from lamina.store.disk_space import is_full

MAX_ZIPPED = 52_428_800  # CodeSizeZipped
MAX_UNZIPPED = 262_144_000  # CodeSizeUnzipped
_CHUNK = 1 << 20

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True)
class Package:
    digest: str  # hex SHA-256, the blob and folder name
    code_sha256: str  # base64 SHA-256, what the API shows as CodeSha256
    size: int  # zipped bytes (CodeSize)
    unzipped_size: int


def describe(data: bytes) -> Package:
    raw = hashlib.sha256(data).digest()
    return Package(raw.hex(), base64.b64encode(raw).decode(), len(data), 0)


def _safe_name(name: str) -> PurePosixPath:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise InvalidParameter(UNZIP_FAILED, Type="User")
    path = PurePosixPath(name.replace("\\", "/"))
    if any(part == ".." for part in path.parts):
        raise InvalidParameter(UNZIP_FAILED, Type="User")
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_link(entry: PurePosixPath, target: str) -> None:
    if target.startswith("/"):
        raise InvalidParameter(UNZIP_FAILED, Type="User")
    depth = len(entry.parent.parts)
    for part in PurePosixPath(target).parts:
        depth = depth - 1 if part == ".." else depth + (part != ".")
        if depth < 0:
            raise InvalidParameter(UNZIP_FAILED, Type="User")


def unpack(data: bytes, into: Path, max_zipped: int = MAX_ZIPPED, max_unzipped: int = MAX_UNZIPPED) -> Package:
    """Validates `data` and extracts it under `into/<digest>`; returns what the API reports.

    Raises the AWS error for each kind of bad package; on error nothing is left on disk.
    """
    if len(data) > max_zipped:
        raise RequestTooLarge(f"Zipped size must be smaller than {max_zipped} bytes")
    package = describe(data)
    # zipfile raises a RuntimeError subclass for compression methods it cannot read: still a broken zip.
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, RuntimeError):
        raise InvalidParameter(UNZIP_FAILED, Type="User") from None
    declared = sum(i.file_size for i in infos)
    if declared >= max_unzipped:
        raise InvalidParameter(f"Unzipped size must be smaller than {max_unzipped} bytes", Type="User")
    for info in infos:
        _safe_name(info.filename)
    target = into / package.digest
    if target.exists():
        return Package(package.digest, package.code_sha256, package.size, declared)
    staging = into / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        actual = _extract(archive, infos, staging, max_unzipped)
        staging.chmod(0o755)
        try:
            os.replace(staging, target)
        except OSError:
            if not target.exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # a concurrent intake of the same bytes won
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Package(package.digest, package.code_sha256, package.size, actual)


def _extract(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], root: Path, limit: int) -> int:
    total = 0
    for info in infos:
        rel = _safe_name(info.filename)
        dest = root.joinpath(*rel.parts) if rel.parts else root
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            dest.chmod(0o755)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            if _is_symlink(info):
                link = archive.read(info)
                if len(link) > 4096:
                    raise InvalidParameter(UNZIP_FAILED, Type="User")
                target = link.decode("utf-8", "replace")
                _check_link(rel, target)
                os.symlink(target, dest)
                continue
            written = 0
            with archive.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size:  # inflates past its declared size: a bomb
                        raise InvalidParameter(UNZIP_FAILED, Type="User")
                    if total >= limit:
                        raise InvalidParameter(f"Unzipped size must be smaller than {limit} bytes", Type="User")
                    out.write(chunk)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, ValueError, OSError) as exc:
            if is_full(exc):
                raise  # our disk, not the caller's file: StorageFull at the gateway
            raise InvalidParameter(UNZIP_FAILED, Type="User") from None
        mode = (info.external_attr >> 16) & 0o777
        dest.chmod(0o755 if mode & 0o111 else 0o644)
    for folder, _dirs, _files in os.walk(root):
        os.chmod(folder, 0o755)
    return total
