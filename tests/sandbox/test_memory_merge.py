"""Same-page merging is decided from the host's KSM controls; a fake sysfs folder stands in for them."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lamina.sandbox import memory_merge
from tests.server import LaminaProcess, descendants


def _ksm(tmp_path: Path, run: str) -> Path:
    (tmp_path / "run").write_text(run + "\n")
    return tmp_path


@pytest.fixture(autouse=True)
def _new_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_merge, "_kernel_has_prctl", lambda: True)


def test_off_changes_nothing(tmp_path: Path) -> None:
    ksm = _ksm(tmp_path, "0")
    result = memory_merge.configure("off", ksm)
    assert not result.enabled
    assert (ksm / "run").read_text() == "0\n"


def test_no_ksm_on_the_host(tmp_path: Path) -> None:
    result = memory_merge.configure("auto", tmp_path / "absent")
    assert not result.enabled
    assert "no KSM" in result.reason


def test_running_ksmd_is_used_as_it_is(tmp_path: Path) -> None:
    ksm = _ksm(tmp_path, "1")
    assert memory_merge.configure("auto", ksm) == memory_merge.MemoryMerge(True, "ksmd already running")


@pytest.mark.skipif(os.geteuid() != 0, reason="auto starts ksmd only as root")
def test_auto_starts_a_stopped_ksmd_as_root(tmp_path: Path) -> None:
    ksm = _ksm(tmp_path, "0")
    result = memory_merge.configure("auto", ksm)
    assert result.enabled
    assert (ksm / "run").read_text() == "1"
    memory_merge.release(result)  # Lamina started it, so Lamina stops it again
    assert (ksm / "run").read_text() == "0"


def test_a_running_ksmd_is_left_running(tmp_path: Path) -> None:
    ksm = _ksm(tmp_path, "1")
    memory_merge.release(memory_merge.configure("auto", ksm))
    assert (ksm / "run").read_text() == "1\n"


def test_auto_respects_a_host_that_asked_to_unmerge(tmp_path: Path) -> None:
    ksm = _ksm(tmp_path, "2")
    result = memory_merge.configure("auto", ksm)
    assert not result.enabled
    assert (ksm / "run").read_text() == "2\n"


def test_old_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_merge, "_kernel_has_prctl", lambda: False)
    result = memory_merge.configure("on", _ksm(tmp_path, "0"))
    assert not result.enabled
    assert "6.4" in result.reason


def test_environments_opt_in_when_health_says_enabled(
    lamina: LaminaProcess, create_function: Callable[..., dict[str, Any]], lambda_client: Any, fn_name: str
) -> None:
    """/health says whether merging is on; when it is, the function's process is marked mergeable (its
    zygote's opt-in is inherited by every fork), which /proc/<pid>/ksm_stat shows on Linux 6.8+."""
    with urllib.request.urlopen(lamina.url + "/health") as response:
        merge = json.loads(response.read())["isolation"]["memory_merge"]
    assert set(merge) == {"enabled", "reason"}
    create_function(fn_name)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 0.05})
    assert lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")["StatusCode"] == 200
    assert lamina.proc is not None
    # Environments run as uid 61000 and up once assigned (spares forked ahead of time are still root).
    environments = [p for p in descendants(lamina.proc.pid) if os.stat(f"/proc/{p}").st_uid >= 61000]
    stats = [Path(f"/proc/{p}/ksm_stat") for p in environments]
    stats = [s for s in stats if s.exists()]
    if not merge["enabled"] or not stats:
        pytest.skip(f"no same-page merging here: {merge['reason']}")
    assert all("ksm_merge_any: yes" in s.read_text() for s in stats)
