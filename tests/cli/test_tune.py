"""`lamina tune` against a real server: each memory size measured on a version of its own, `$LATEST` restored and
the tuning versions deleted afterwards, JSON output in the documented shape, the pick consistent with the strategy,
and the chart rendered by headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lamina.tune.sweep import Result, best
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

WORK = """
def handler(event, context):
    total = 0
    for i in range(int(event.get("n", 20000))):
        total += i * i
    return {"total": total}
"""


def _tune(lamina: LaminaProcess, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lamina.cli.main", "tune", *args, "--endpoint-url", f"http://127.0.0.1:{lamina.port}"]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_tune_measures_each_size_and_restores_the_function(lamina: LaminaProcess, tmp_path: Path) -> None:
    client: Any = lamina.client("lambda")
    name = f"tune-{uuid.uuid4().hex[:8]}"
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": WORK})},
        MemorySize=384,
    )
    try:
        chart = tmp_path / "tune.html"
        done = _tune(
            lamina,
            name,
            "--memory",
            "128,512,1024",
            "--invocations",
            "4",
            "--payload",
            '{"n": 5000}',
            "--strategy",
            "balanced",
            "--parallel",
            "--output",
            "json",
            "--chart",
            str(chart),
        )
        assert done.returncode == 0, done.stderr
        assert "128 MB" in done.stderr  # progress while it runs
        out = json.loads(done.stdout)
        assert [r["memory"] for r in out["results"]] == [128, 512, 1024]
        for row in out["results"]:
            assert set(row) >= {"memory", "p50Ms", "p99Ms", "costUsd"}
            assert row["errors"] == 0 and 0 < row["p50Ms"] <= row["p99Ms"] and row["costUsd"] > 0
        assert out["best"]["memory"] in (128, 512, 1024)
        config = client.get_function_configuration(FunctionName=name)
        assert config["MemorySize"] == 384  # $LATEST as it was
        versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
        assert versions == ["$LATEST"]  # the tuning versions are gone
        page = chart.read_text()
        assert "<svg" in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
        chromium = shutil.which("chromium")
        if chromium is None:
            pytest.skip("Debian's chromium is not installed: the chart was written but not rendered")
        shot = tmp_path / "tune.png"
        headless = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=800,700"]
        dom = subprocess.run(
            [*headless, "--dump-dom", chart.as_uri()], check=False, capture_output=True, text=True, timeout=120
        )
        assert "<polyline" in dom.stdout and 'id="best"' in dom.stdout, dom.stderr[-2000:]
        subprocess.run(
            [*headless, f"--screenshot={shot}", chart.as_uri()], check=False, capture_output=True, timeout=120
        )
        assert shot.stat().st_size > 5_000  # a drawn chart, not an error page's few bytes
        print(f"tune chart screenshot: {shot}")
    finally:
        client.delete_function(FunctionName=name)


def test_tune_refuses_bad_arguments_before_changing_anything(lamina: LaminaProcess) -> None:
    done = _tune(lamina, "nothing", "--memory", "64")
    assert done.returncode == 2 and "128-10240" in done.stderr
    done = _tune(lamina, "nothing", "--payload", "{not json")
    assert done.returncode == 2 and "lamina tune:" in done.stderr


def test_strategies_pick_as_documented() -> None:
    cheap_slow = Result(128, [40.0, 40.0], [40.0, 40.0], 0, 1.0e-7)
    dear_fast = Result(1024, [4.0, 4.0], [4.0, 4.0], 0, 3.0e-7)
    middle = Result(512, [9.0, 9.0], [9.0, 9.0], 0, 1.5e-7)
    results = [cheap_slow, middle, dear_fast]
    assert best(results, "cost") is cheap_slow
    assert best(results, "speed") is dear_fast
    assert best(results, "balanced") is middle  # 0.5·cost/max + 0.5·p50/max: 0.36 vs 0.67 and 0.55
