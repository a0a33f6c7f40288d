"""The forced fallback (plain processes with rlimits) runs functions and says so; the report says what is on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.invoke.executor import Executor
from tests.invoke.harness import Functions, Loop, call, run_with_executor

pytestmark = pytest.mark.slow

APP = {
    "app.py": """
    import os
    count = 0
    def handler(event, context):
        global count
        count += 1
        return {"count": count, "task": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd()}
    """
}


def test_forced_fallback_runs_and_reports(
    loop: Loop, functions: Functions, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = functions.spec(APP)

    async def body(executor: Executor) -> None:
        report = executor.isolation_report()
        assert report["level"] == "fallback" and report["fallback"] is True
        assert report["namespaces"] == [] and report["cgroups"] == "none"
        assert "fallback forced by settings" in report["reasons"]  # type: ignore[operator]
        first = json.loads((await call(executor, spec)).payload)
        assert first == {"count": 1, "task": str(spec.code_dir), "cwd": str(spec.code_dir)}
        assert json.loads((await call(executor, spec)).payload)["count"] == 2

    run_with_executor(loop, data_dir, body, force_fallback=True)
    assert "WITHOUT sandboxing" in caplog.text


def test_fresh_interpreter_per_environment(loop: Loop, functions: Functions, data_dir: Path) -> None:
    spec = functions.spec(APP)

    async def body(executor: Executor) -> None:
        out = json.loads((await call(executor, spec)).payload)
        assert out["task"] == "/var/task" and out["count"] == 1
        assert json.loads((await call(executor, spec)).payload)["count"] == 2

    run_with_executor(loop, data_dir, body, use_zygote=False)


def test_sandboxed_report(loop: Loop, data_dir: Path) -> None:
    async def body(executor: Executor) -> dict[str, object]:
        return executor.isolation_report()

    report = run_with_executor(loop, data_dir, body)
    assert report["level"] == "namespaces"
    assert report["namespaces"] == ["mount", "pid", "ipc", "uts"]
    assert report["cgroups"] in ("v1", "v2")
    assert report["fallback"] is False


def test_private_network_namespace(loop: Loop, functions: Functions, data_dir: Path) -> None:
    spec = functions.spec(
        {
            "app.py": """
            import os, socket
            def handler(event, context):
                try:
                    socket.create_connection(("1.1.1.1", 53), timeout=0.2)
                    outside = "reachable"
                except OSError as e:
                    outside = type(e).__name__
                return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "outside": outside}
            """
        }
    )

    async def body(executor: Executor) -> None:
        assert executor.isolation_report()["namespaces"] == ["mount", "pid", "ipc", "uts", "net"]
        out = json.loads((await call(executor, spec)).payload)
        assert out == {"api": "127.0.0.1:9001", "outside": "OSError"}

    run_with_executor(loop, data_dir, body, network_namespace=True)
