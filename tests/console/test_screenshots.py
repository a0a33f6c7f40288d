"""The README's console screenshots are made by scripts/console_screenshots.py; it runs here into a temporary
folder, so the script keeps working as the pages change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "console_screenshots.py"


def test_screenshots_are_regenerated(tmp_path: Path) -> None:
    if shutil.which("/usr/bin/chromium") is None:
        pytest.skip("/usr/bin/chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, timeout=180)
    for name in ("list.png", "function-test.png", "monitoring.png", "cost.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name
