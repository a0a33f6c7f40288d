"""Environment lifecycle through the executor: warm reuse, concurrency, timeouts and idle reaping in virtual
time, memory limits, retirement, and the file system a function sees."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from lamina.clock import ManualClock
from lamina.invoke.executor import Executor
from lamina.sandbox.environment import EnvironmentState
from tests.invoke.harness import Functions, Loop, call, environment_pids, run_with_executor, wait_until

pytestmark = pytest.mark.slow

COUNTER = """
import os
count = 0
def handler(event, context):
    global count
    count += 1
    if event.get("write"):
        open("/tmp/state", "a").write("x")
    tmp = open("/tmp/state").read() if os.path.exists("/tmp/state") else ""
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    return {"count": count, "pid": os.getpid(), "stream": context.log_stream_name, "tmp": tmp}
"""


def test_warm_environment_is_reused(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": COUNTER})
    outs = [json.loads(loop.run(call(executor, spec, b'{"write": true}')).payload) for _ in range(3)]
    assert [o["count"] for o in outs] == [1, 2, 3]
    assert len({o["stream"] for o in outs}) == 1
    assert outs[-1]["tmp"] == "xxx"  # /tmp survives between invocations
    first = loop.run(call(executor, spec))
    assert first.init_duration_ms is None


def test_concurrent_invokes_get_separate_environments(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": COUNTER})

    async def both() -> list[dict[str, object]]:
        results = await asyncio.gather(*(call(executor, spec, b'{"sleep": 0.3}') for _ in range(3)))
        return [json.loads(r.payload) for r in results]

    outs = loop.run(both())
    assert len({o["stream"] for o in outs}) == 3
    assert all(o["count"] == 1 for o in outs)


def test_file_system(loop: Loop, executor: Executor, functions: Functions, tmp_path: Path) -> None:
    layer1 = tmp_path / "layer1"
    layer2 = tmp_path / "layer2"
    for layer, text in ((layer1, "one"), (layer2, "two")):
        (layer / "python").mkdir(parents=True)
        (layer / "python" / "shared.py").write_text(f"WHO = {text!r}\n")
        (layer / f"only_{text}.txt").write_text(text)
        for p in (layer, layer / "python"):
            p.chmod(0o755)
    spec = functions.spec(
        {
            "app.py": """
            import os, shared
            def attempt(fn):
                try:
                    fn()
                    return "ok"
                except OSError as e:
                    return e.errno
            def handler(event, context):
                big = attempt(lambda: open("/tmp/big", "wb").write(b"x" * (9 << 20)))
                os.remove("/tmp/big") if os.path.exists("/tmp/big") else None
                return {
                    "shared": shared.WHO,
                    "opt": sorted(os.listdir("/opt")),
                    "task_write": attempt(lambda: open("/var/task/new", "w")),
                    "root_write": attempt(lambda: open("/new", "w")),
                    "tmp_write": attempt(lambda: open("/tmp/ok", "w").write("fine")),
                    "tmp_over_limit": big,
                    "uid": os.getuid(),
                    "cwd": os.getcwd(),
                    "pid": os.getpid(),
                    "hostname": os.uname().nodename,
                }
            """
        },
        layer_dirs=(layer1, layer2),
        ephemeral_mb=8,
    )
    out = json.loads(loop.run(call(executor, spec)).payload)
    assert out["shared"] == "two"  # later layers override earlier ones
    assert out["opt"] == ["only_one.txt", "only_two.txt", "python"]
    assert out["task_write"] == 30  # EROFS
    assert out["root_write"] in (13, 30)
    assert out["tmp_write"] == "ok"
    assert out["tmp_over_limit"] == 28  # ENOSPC: /tmp is capped at EphemeralStorage
    assert out["uid"] != 0
    assert out["cwd"] == "/var/task"
    assert out["pid"] == 1


def test_timeout_in_virtual_time(loop: Loop, functions: Functions, data_dir: Path) -> None:
    spec = functions.spec({"app.py": "def handler(e, c):\n    while True:\n        pass\n"}, timeout_s=5)
    ok = functions.spec({"app.py": "def handler(e, c):\n    return 'alive'\n"})
    clock = ManualClock()

    async def body(executor: Executor) -> None:
        task = asyncio.ensure_future(call(executor, spec, request_id="req-timeout", tail_logs=True))
        await wait_until(lambda: any(e.state is EnvironmentState.BUSY for e in executor._pool))
        busy = next(e for e in executor._pool if e.state is EnvironmentState.BUSY)
        clock.advance(4.9)
        await asyncio.sleep(0.05)
        assert not task.done()
        clock.advance(0.2)
        result = await task
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload) == {
            "errorMessage": "RequestId: req-timeout Error: Task timed out after 5.00 seconds",
            "errorType": "Sandbox.Timedout",
        }
        assert result.log_tail is not None
        tail = result.log_tail.decode()
        assert "req-timeout Task timed out after 5.00 seconds" in tail
        assert "\tStatus: timeout\t" in tail
        await asyncio.wait_for(busy.dead, 5)  # the whole tree was killed
        assert not os.path.exists(f"/proc/{busy.pid}") or _is_zombie(busy.pid)
        assert (await call(executor, ok)).payload == b'"alive"'

    run_with_executor(loop, data_dir, body, clock=clock)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_idle_environments_are_reaped_in_virtual_time(loop: Loop, functions: Functions, data_dir: Path) -> None:
    spec = functions.spec({"app.py": COUNTER})
    clock = ManualClock()

    async def body(executor: Executor) -> None:
        await call(executor, spec)
        (env,) = list(executor._pool)
        clock.advance(250)
        await asyncio.sleep(0.05)
        assert env.state is EnvironmentState.IDLE
        assert json.loads((await call(executor, spec)).payload)["count"] == 2  # reuse refreshes idleness
        clock.advance(299)
        await asyncio.sleep(0.05)
        assert env.state is EnvironmentState.IDLE
        clock.advance(40)
        await asyncio.wait_for(env.dead, 5)
        assert len(executor._pool) == 0
        assert json.loads((await call(executor, spec)).payload)["count"] == 1  # a fresh environment

    run_with_executor(loop, data_dir, body, clock=clock, idle_timeout_s=300)


def test_memory_limit_kills_the_hog_and_next_invoke_works(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": """
            def handler(event, context):
                if event == "hog":
                    blocks = []
                    while True:
                        blocks.append(bytearray(8 << 20))
                return "fine"
            """
        },
        memory_mb=128,
        timeout_s=30,
    )
    result = loop.run(call(executor, spec, b'"hog"', request_id="req-oom", tail_logs=True))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-oom Error: Runtime exited with error: signal: killed",
    }
    assert result.log_tail is not None
    assert b"Runtime.OutOfMemory" in result.log_tail
    assert b"Max Memory Used: 128 MB" in result.log_tail
    assert loop.run(call(executor, spec, b'"ok"')).payload == b'"fine"'


def test_retire_stops_idle_environments(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": COUNTER})
    loop.run(call(executor, spec))
    envs = [e for e in executor._pool if e.spec.function_arn == spec.function_arn]
    assert len(envs) == 1
    executor.retire(spec.function_arn)
    loop.run(asyncio.wait_for(envs[0].dead, 5))
    assert json.loads(loop.run(call(executor, spec)).payload)["count"] == 1


def test_close_leaves_no_process(loop: Loop, functions: Functions, data_dir: Path) -> None:
    spec = functions.spec({"app.py": COUNTER})
    before = environment_pids(data_dir)

    async def body(executor: Executor) -> None:
        await asyncio.gather(*(call(executor, spec, b'{"sleep": 0.1}') for _ in range(3)))
        assert len(environment_pids(data_dir) - before) >= 3

    run_with_executor(loop, data_dir, body)
    assert environment_pids(data_dir) - before == set()
