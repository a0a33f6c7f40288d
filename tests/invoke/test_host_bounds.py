"""Host-wide bounds, for real: a `lamina serve` with a low pids bound, a (bounded) fork bomb, and the parent
cgroup's pids.current watched from outside while it rages."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lamina.invoke.executor import Executor, HostBoundsExceeded
from lamina.sandbox.cgroups import CgroupVersion, detect
from lamina.sandbox.environment import EnvironmentState
from tests.conftest import make_zip
from tests.invoke.harness import Functions, Loop, call, run_with_executor, wait_until
from tests.server import ROLE, LaminaProcess

needs_cgroups = pytest.mark.skipif(
    os.geteuid() != 0 or detect().version is CgroupVersion.NONE, reason="needs root and writable cgroups"
)

MAX_PIDS = 120

# Bounded on purpose: at most 2,000 forks, stops after 50 refused ones; the children sleep until the
# environment is killed at the function's timeout (3 s), so they hold their pids meanwhile.
BOMB = """
import os, time
def handler(event, context):
    made = refused = 0
    for _ in range(2000):
        try:
            pid = os.fork()
        except OSError:
            refused += 1
            if refused >= 50:
                break
            continue
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    time.sleep(30)
    return {"made": made, "refused": refused}
"""


def _health(server: LaminaProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/health", timeout=5) as reply:
        health: dict[str, Any] = json.loads(reply.read())
    return health


def _create(client: Any, name: str, code: str, timeout: int = 3) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=timeout,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)


@needs_cgroups
@pytest.mark.slow
def test_fork_bomb_stays_within_the_host_bound_and_new_environments_are_refused_clearly(
    fresh_lamina: Callable[..., LaminaProcess],
) -> None:
    server = fresh_lamina("--max-environment-pids", str(MAX_PIDS), "--max-environment-memory", "2048")
    bounds = _health(server)["isolation"]["host_bounds"]
    assert bounds["max_pids"] == MAX_PIDS and bounds["max_pids_source"] == "configured"
    assert bounds["max_memory_mb"] == 2048 and bounds["enforcement"] == "parent cgroup"
    parent = Path(bounds["pids_cgroup"])
    assert (parent / "pids.max").read_text().strip() == str(MAX_PIDS)
    client = server.client()
    _create(client, "bomb", BOMB)
    _create(client, "healthy", "def handler(event, context):\n    return 'healthy'\n")
    assert client.invoke(FunctionName="healthy")["Payload"].read() == b'"healthy"'

    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(int((parent / "pids.current").read_text()))
            time.sleep(0.005)

    bomb_answer: dict[str, Any] = {}
    watcher = threading.Thread(target=watch)
    bomber = threading.Thread(target=lambda: bomb_answer.update(client.invoke(FunctionName="bomb")))
    watcher.start()
    bomber.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not seen or seen[-1] < MAX_PIDS - 8):
            time.sleep(0.05)
        assert seen and seen[-1] >= MAX_PIDS - 8, f"the bomb never reached the bound: {seen[-5:]}"
        # The healthy function's warm environment still serves (no new environment, no new pid needed
        # beyond what it holds)...
        # ...but a function needing a new environment is refused, clearly and as AWS refuses when it
        # cannot scale.
        _create(client, "newcomer", "def handler(event, context):\n    return 'new'\n")
        with pytest.raises(client.exceptions.TooManyRequestsException) as refused:
            client.invoke(FunctionName="newcomer")
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert "--max-environment-pids" in error["Error"]["Message"]
        assert f"of {MAX_PIDS} pids" in error["Error"]["Message"]
        # The kernel refused forks (v1 counts them in the forking group, v2 in the group at its limit):
        # with 1,024 pids allowed per environment, only the parent's bound can have refused them.
        refusals = [
            int(p.joinpath("pids.events").read_text().split()[-1])
            for p in (parent, *parent.glob("env-*"))
            if p.joinpath("pids.events").exists()
        ]
        assert sum(refusals) > 0, refusals
    finally:
        bomber.join(20)
        done.set()
        watcher.join()
    assert max(seen) <= MAX_PIDS, max(seen)
    payload = json.loads(bomb_answer["Payload"].read())
    assert payload["errorType"] == "Sandbox.Timedout", payload
    # Once the bomb's environment is gone, new environments start again.
    deadline = time.monotonic() + 10
    while True:
        try:
            assert client.invoke(FunctionName="newcomer")["Payload"].read() == b'"new"'
            break
        except client.exceptions.TooManyRequestsException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    deadline = time.monotonic() + 10  # the bomb's processes are reclaimed in the background
    while _health(server)["isolation"]["host_bounds"]["pids_current"] >= MAX_PIDS // 2:
        assert time.monotonic() < deadline, "the bomb's processes were not reclaimed"
        time.sleep(0.1)
    assert server.stop() == 0
    assert not parent.exists()  # the server's parent group went with it


@pytest.mark.slow
def test_memory_bound_evicts_idle_environments_then_refuses_without_cgroups(tmp_path: Path) -> None:
    """Without cgroups (forced fallback) the memory bound is held by admission on reserved memory."""
    functions = Functions(tmp_path / "functions")
    small = functions.spec({"app.py": "def handler(e, c):\n    return 'small'\n"}, memory_mb=128)
    big = functions.spec(
        {"app.py": "import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'big'\n"}, memory_mb=256
    )

    async def body(executor: Executor) -> None:
        bounds = executor.isolation_report()["host_bounds"]
        assert isinstance(bounds, dict)
        assert bounds["max_memory_mb"] == 300 and "rlimits" in bounds["enforcement"]
        assert (await call(executor, small)).payload == b'"small"'
        assert executor.bounds_report()["reserved_memory_mb"] == 128
        running = asyncio.ensure_future(call(executor, big))  # 128 + 256 > 300: the idle small one goes
        await wait_until(lambda: any(e.state is EnvironmentState.BUSY for e in executor._pool))
        assert executor.bounds_report()["reserved_memory_mb"] == 256
        with pytest.raises(HostBoundsExceeded, match="128 MB would pass the host bound of 300 MB"):
            await call(executor, small)
        assert (await running).payload == b'"big"'
        assert (await call(executor, small)).payload == b'"small"'  # the idle big one makes room now

    loop = Loop()
    try:
        run_with_executor(loop, tmp_path / "data", body, force_fallback=True, max_environment_memory_mb=300)
    finally:
        loop.close()
