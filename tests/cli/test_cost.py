"""`lamina cost` against a running Lamina: requests and GB-seconds from the REPORT lines, priced from the package's
table. The expected figures come from another path: the REPORT line each invoke returns in its log tail."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.cloudwatch.conftest import wait_for
from tests.server import LaminaProcess

X86, ARM, REQUEST, EPHEMERAL = 0.0000166667, 0.0000133334, 0.0000002, 0.0000000309


def _cost(lamina: LaminaProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lamina.cli.main", "cost", "--endpoint-url", lamina.url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _billed(lambda_client: Any, name: str, n: int) -> list[int]:
    billed = []
    for _ in range(n):
        tail = base64.b64decode(lambda_client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")["LogResult"])
        m = re.search(r"Billed Duration: (\d+) ms", tail.decode())
        assert m is not None
        billed.append(int(m.group(1)))
    return billed


def test_cost_json_and_table(
    lamina: LaminaProcess, lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    arm, x86 = f"{fn_name}-arm", f"{fn_name}-x86"
    create_function(arm, MemorySize=256, Architectures=["arm64"], EphemeralStorage={"Size": 1024})
    create_function(x86, MemorySize=1024)
    arm_billed, x86_billed = _billed(lambda_client, arm, 3), _billed(lambda_client, x86, 2)

    def report() -> Any:
        done = _cost(lamina, "--output", "json", "--function", arm, "--function", x86)
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        return doc if [f["requests"] for f in doc["functions"]] == [3, 2] else None

    doc = wait_for(report)  # log lines land in batches
    by_name = {f["name"]: f for f in doc["functions"]}
    arm_gbs = sum(arm_billed) / 1000 * 256 / 1024
    x86_gbs = sum(x86_billed) / 1000 * 1024 / 1024
    assert by_name[arm]["gbSeconds"] == round(arm_gbs, 6)
    assert by_name[x86]["gbSeconds"] == round(x86_gbs, 6)
    arm_cost = 3 * REQUEST + arm_gbs * ARM + sum(arm_billed) / 1000 * (1024 - 512) / 1024 * EPHEMERAL
    assert abs(by_name[arm]["costUsd"] - arm_cost) < 1e-9
    assert abs(by_name[x86]["costUsd"] - (2 * REQUEST + x86_gbs * X86)) < 1e-9
    # Well inside the free tier: only ephemeral storage (which has none) is left to pay.
    assert by_name[x86]["costAfterFreeTierUsd"] == 0
    assert 0 < by_name[arm]["costAfterFreeTierUsd"] < by_name[arm]["costUsd"]
    assert set(doc["functions"][0]) >= {"name", "requests", "gbSeconds", "costUsd", "costAfterFreeTierUsd"}

    table = _cost(lamina, "--function", arm)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[1].split()[:4] == ["FUNCTION", "ARCH", "REQUESTS", "GB-SECONDS"]
    assert lines[2].split()[:3] == [arm, "arm64", "3"]


def test_cost_bad_range_and_unreachable(lamina: LaminaProcess) -> None:
    done = _cost(lamina, "--start-time", "2026-01-02T00:00:00Z", "--end-time", "2026-01-01T00:00:00Z")
    assert done.returncode == 2 and "--start-time must be before --end-time" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "lamina.cli.main", "cost", "--endpoint-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("lamina cost: error:")
    assert "Traceback" not in done.stderr
