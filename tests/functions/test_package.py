"""Safe code intake: every bad package is refused with AWS's error and leaves nothing on disk."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest

from lamina.errors import InvalidParameter, RequestTooLarge
from lamina.functions import package
from tests.conftest import make_zip


def _zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _left_on_disk(root: Path) -> list[Path]:
    return list(root.iterdir()) if root.exists() else []


def test_good_package_is_extracted_under_its_digest(tmp_path: Path) -> None:
    data = make_zip({"app.py": "x = 1\n", "lib/mod.py": "y = 2\n"})
    pkg = package.unpack(data, tmp_path)
    digest = hashlib.sha256(data).digest()
    assert pkg.code_sha256 == base64.b64encode(digest).decode()
    assert pkg.digest == digest.hex()
    assert pkg.size == len(data)
    assert (tmp_path / pkg.digest / "lib" / "mod.py").read_text() == "y = 2\n"


def test_executable_bit_is_kept(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    pkg = package.unpack(_zip_with([(info, b"#!/bin/sh\n")]), tmp_path)
    assert (tmp_path / pkg.digest / "bootstrap").stat().st_mode & 0o111


def test_same_bytes_are_stored_once(tmp_path: Path) -> None:
    data = make_zip()
    assert package.unpack(data, tmp_path).digest == package.unpack(data, tmp_path).digest
    assert len(_left_on_disk(tmp_path)) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip at all",
        b"PK\x03\x04" + b"\x00" * 40,
        make_zip()[:-30],  # truncated central directory
    ],
)
def test_broken_zip_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InvalidParameter, match="Could not unzip uploaded file"):
        package.unpack(data, tmp_path)
    assert _left_on_disk(tmp_path) == []


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/evil", "C:/evil", "..\\evil.py"])
def test_entries_escaping_the_root_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidParameter, match="Could not unzip"):
        package.unpack(_zip_with([(name, b"x")]), tmp_path / "code")
    assert _left_on_disk(tmp_path / "code") == []
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "a/../../x"])
def test_symlinks_pointing_out_are_refused(tmp_path: Path, target: str) -> None:
    with pytest.raises(InvalidParameter, match="Could not unzip"):
        package.unpack(_zip_with([_symlink("link", target)]), tmp_path)
    assert _left_on_disk(tmp_path) == []


def test_symlinks_inside_the_package_are_kept(tmp_path: Path) -> None:
    data = _zip_with([("lib/real.py", b"x = 1\n"), _symlink("lib/alias.py", "real.py")])
    pkg = package.unpack(data, tmp_path)
    assert (tmp_path / pkg.digest / "lib" / "alias.py").read_text() == "x = 1\n"


def test_zipped_size_limit(tmp_path: Path) -> None:
    with pytest.raises(RequestTooLarge, match="Zipped size must be smaller than 1000 bytes"):
        package.unpack(b"x" * 1001, tmp_path, max_zipped=1000)


def test_declared_unzipped_size_limit(tmp_path: Path) -> None:
    data = make_zip({"big.bin": b"\0" * 5000})
    with pytest.raises(InvalidParameter, match="Unzipped size must be smaller than 4096 bytes"):
        package.unpack(data, tmp_path, max_unzipped=4096)
    assert _left_on_disk(tmp_path) == []


def test_zip_bomb_lying_about_its_size_is_refused(tmp_path: Path) -> None:
    """An entry whose header declares 10 bytes but inflates to 1 MB: caught while inflating."""
    data = bytearray(make_zip({"bomb.bin": b"\0" * 1_000_000}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.infolist()[0]
    # Patch the declared uncompressed size in the central directory (offset 24 in the record).
    central = bytes(data).rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    local = info.header_offset
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    with pytest.raises(InvalidParameter):
        package.unpack(bytes(data), tmp_path)
    assert _left_on_disk(tmp_path) == []


def test_actual_total_size_limit_is_enforced_while_inflating(tmp_path: Path) -> None:
    data = make_zip({"a.bin": b"\0" * 3000, "b.bin": b"\0" * 3000})
    with pytest.raises(InvalidParameter, match="Unzipped size"):
        package.unpack(data, tmp_path, max_unzipped=5000)
    assert _left_on_disk(tmp_path) == []


def test_unsupported_compression_method_is_refused(tmp_path: Path) -> None:
    """zipfile raises NotImplementedError for a method it cannot read: still AWS's unzip error."""
    data = bytearray(make_zip({"app.py": "x = 1\n"}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    local = archive.infolist()[0].header_offset
    central = bytes(data).rfind(b"PK\x01\x02")
    data[local + 8 : local + 10] = (99).to_bytes(2, "little")  # compression method in the local header
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")  # and in the central directory
    with pytest.raises(InvalidParameter, match="Could not unzip"):
        package.unpack(bytes(data), tmp_path)
    assert _left_on_disk(tmp_path) == []
