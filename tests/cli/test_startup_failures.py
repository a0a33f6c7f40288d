"""`lamina serve` start-up failures: one clear line, non-zero exit, traceback only at DEBUG (issue 12 item 19)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _serve(data_dir: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lamina.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir), *extra]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30)


def _assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    errors = [line for line in result.stderr.splitlines() if line.startswith("lamina: error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def test_unwritable_data_dir_prints_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _serve(blocker / "data", 0)
    _assert_one_line(result, "data directory", str(blocker / "data"), "--data-dir")


def test_port_in_use_prints_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = _serve(tmp_path / "data", port)
    _assert_one_line(result, f"port {port}", "in use", "--port")


def test_debug_level_keeps_the_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _serve(blocker / "data", 0, "--log-level", "DEBUG")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk_prints_one_line(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        filler = mount / "filler"
        with filler.open("wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        result = _serve(mount / "data", 0)
        _assert_one_line(result, "no space left", str(mount / "data"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
