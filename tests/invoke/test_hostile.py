"""Hostile functions: each is contained, and the executor keeps serving other functions meanwhile."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lamina.clock import ManualClock
from lamina.invoke.executor import Executor
from lamina.sandbox.environment import EnvironmentState
from lamina.types import VersionSpec
from tests.invoke.harness import Functions, Loop, call, run_with_executor, wait_until

pytestmark = pytest.mark.slow

HEALTHY = {"app.py": "def handler(event, context):\n    return 'healthy'\n"}


def assert_still_serving(loop: Loop, executor: Executor, healthy: VersionSpec) -> None:
    assert loop.run(call(executor, healthy)).payload == b'"healthy"'


def test_infinite_loop_and_fork_bomb_are_killed_on_timeout(loop: Loop, functions: Functions, data_dir: Path) -> None:
    loop_fn = functions.spec({"app.py": "def handler(e, c):\n    while True:\n        pass\n"}, timeout_s=2)
    bomb = functions.spec(
        {
            "app.py": """
            import os
            def handler(event, context):
                while True:
                    try:
                        os.fork()
                    except OSError:
                        pass
            """
        },
        timeout_s=2,
    )
    healthy = functions.spec(HEALTHY)
    clock = ManualClock()

    async def body(executor: Executor) -> None:
        tasks = [asyncio.ensure_future(call(executor, spec)) for spec in (loop_fn, bomb)]
        await wait_until(lambda: sum(e.state is EnvironmentState.BUSY for e in executor._pool) == 2)
        await asyncio.sleep(0.3)  # let the bomb hit its pids limit
        assert (await call(executor, healthy)).payload == b'"healthy"'  # served while they rage
        envs = [e for e in executor._pool if e.state is EnvironmentState.BUSY]
        groups = [e.cgroup for e in envs]
        # The pids limit holds (plus the resident that forked the environment into its group).
        counts = [g.pids_current() if g is not None else None for g in groups]
        assert all(c is not None and c <= executor.settings.pids_limit + 1 for c in counts), counts
        clock.advance(2.5)
        for task in tasks:
            result = await task
            assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
        for env in envs:
            await asyncio.wait_for(env.dead, 10)
        assert all(g is None or len(g.pids()) <= 1 for g in groups)  # only a resident may remain
        assert (await call(executor, healthy)).payload == b'"healthy"'

    # A low pids limit keeps the bomb inside its 128 MB: with AWS's 1024 processes the forked
    # interpreters can exhaust memory first and die of OOM (Runtime.ExitError) instead of timing out.
    run_with_executor(loop, data_dir, body, clock=clock, pids_limit=64)


def test_cannot_write_task_or_read_other_code_or_data_dir(loop: Loop, executor: Executor, functions: Functions) -> None:
    secret = functions.spec({"app.py": "SECRET = 's3cr3t'\ndef handler(e, c):\n    return 1\n"})
    snoop = functions.spec(
        {
            "app.py": """
            import os
            def probe(path, mode="r"):
                try:
                    with open(path, mode) as f:
                        return "read:" + f.read(100) if mode == "r" else "wrote"
                except OSError as e:
                    return e.__class__.__name__
            def handler(event, context):
                return {path: probe(path, mode) for path, mode in event}
            """
        }
    )
    data_dir = str(executor.data_dir)
    targets = [
        [str(secret.code_dir / "app.py"), "r"],
        ["/var/task/app.py", "a"],
        ["/var/task/new.py", "w"],
        [data_dir + "/logs/x", "r"],
        ["/proc/1/environ", "r"],
        ["/etc/shadow", "r"],
        ["/sys/fs/cgroup/memory/memory.limit_in_bytes", "r"],
    ]
    out = json.loads(loop.run(call(executor, snoop, json.dumps(targets).encode())).payload)
    assert out[str(secret.code_dir / "app.py")] == "FileNotFoundError"  # not even visible
    assert out["/var/task/app.py"] in ("PermissionError", "OSError")  # EACCES before EROFS
    assert out["/var/task/new.py"] in ("PermissionError", "OSError")
    assert out[data_dir + "/logs/x"] == "FileNotFoundError"
    assert "AWS_LAMBDA" not in out["/proc/1/environ"]  # the zygote's start-up environment is clean
    assert out["/etc/shadow"] == "PermissionError"
    assert out["/sys/fs/cgroup/memory/memory.limit_in_bytes"] == "FileNotFoundError"


def test_stdout_flood_is_bounded(loop: Loop, functions: Functions, data_dir: Path) -> None:
    flood = functions.spec(
        {
            "app.py": """
            import sys
            def handler(event, context):
                line = "x" * 1023 + "\\n"
                for _ in range(20000):
                    sys.stdout.write(line)
                return "flooded"
            """
        },
        timeout_s=60,
    )
    healthy = functions.spec(HEALTHY)

    async def body(executor: Executor) -> None:
        result = await call(executor, flood, tail_logs=True)
        assert result.payload == b'"flooded"'
        assert result.log_tail is not None and len(result.log_tail) <= 4096
        assert b"REPORT RequestId" in result.log_tail
        assert (await call(executor, healthy)).payload == b'"healthy"'
        executor.logs.flush()
        (stream,) = executor.logs.streams(f"/aws/lambda/{flood.function_name}")
        assert stream.stored_bytes < 2 * executor.settings.max_log_bytes_per_invocation
        messages = [e.message for e in executor.logs.events(f"/aws/lambda/{flood.function_name}", stream.name)]
        assert "Lamina: output over the per-invocation log limit was dropped" in messages

    run_with_executor(loop, data_dir, body, max_log_bytes_per_invocation=256 * 1024)


def test_exit_during_init(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": "import os\nprint('bye')\nos._exit(7)\n"})
    healthy = functions.spec(HEALTHY)
    result = loop.run(call(executor, spec, request_id="req-init-exit", tail_logs=True))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-init-exit Error: Runtime exited with error: exit status 7",
    }
    assert result.log_tail is not None and b"bye" in result.log_tail
    assert b"INIT_REPORT Init Duration" in result.log_tail
    assert_still_serving(loop, executor, healthy)


def test_platform_survives_killing_its_runtime_api(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": """
            import os, socket
            def handler(event, context):
                host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
                s = socket.create_connection((host, int(port)))
                s.sendall(b"GARBAGE / HTTP/9.9\\r\\n\\r\\n" + b"\\x00" * 1000)
                s.sendall(b"POST /2018-06-01/runtime/invocation/bogus/response HTTP/1.1\\r\\n\\r\\n")
                return "done"
            """
        }
    )
    assert loop.run(call(executor, spec)).payload == b'"done"'
    assert loop.run(call(executor, spec)).payload == b'"done"'


def test_cannot_reach_another_environments_runtime_api(loop: Loop, executor: Executor, functions: Functions) -> None:
    """Without a network namespace every Runtime API port is on the host's loopback. A function that finds
    another environment's port (here: handed to it) must not be able to take that environment's events:
    the connection is closed at once because its socket belongs to another uid."""
    victim = functions.spec(
        {"app.py": "import os\ndef handler(event, context):\n    return os.environ['AWS_LAMBDA_RUNTIME_API']\n"}
    )
    thief = functions.spec(
        {
            "app.py": """
            import socket
            def handler(event, context):
                host, port = event.split(":")
                s = socket.socket()
                s.settimeout(2)
                s.connect((host, int(port)))
                s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                try:
                    return "answered: " + s.recv(100).decode() if s.recv(1, socket.MSG_PEEK) else "closed"
                except (TimeoutError, socket.timeout):
                    return "parked"
                except ConnectionResetError:
                    return "closed"
            """
        }
    )
    report = executor.isolation_report()
    namespaces = report.get("namespaces")
    if not report.get("unprivileged_uid") or (isinstance(namespaces, list) and "net" in namespaces):
        pytest.skip("environments share a uid here, or each has its own network")
    address = json.loads(loop.run(call(executor, victim)).payload)
    stolen = json.loads(loop.run(call(executor, thief, json.dumps(address).encode())).payload)
    assert stolen == "closed"
    # The victim's own runtime is untouched and keeps getting its events.
    assert json.loads(loop.run(call(executor, victim)).payload) == address
