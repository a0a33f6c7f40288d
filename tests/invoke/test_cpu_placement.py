"""CPU placement through a real executor: pinned while invokes come one at a time, every count back to
zero after crashes, zygotes started while pinned use every CPU, and closing gives the thread its CPUs back."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from lamina.sandbox.placement import QUIET_STARTS
from tests.invoke.harness import Functions, Loop, call, started_executor

ALL = os.sched_getaffinity(0)
pytestmark = pytest.mark.skipif(len(ALL) < 2, reason="placement needs two CPUs")

CODE = {
    "app.py": """
    import os

    def handler(event, context):
        if event.get("crash"):
            os._exit(7)
        return "ok"
    """
}


def test_pinned_while_quiet_balanced_after_crashes_and_released_on_close(
    loop: Loop, functions: Functions, data_dir: Path
) -> None:
    async def body() -> None:
        executor = await started_executor(data_dir, cpu_placement=True)
        try:
            placement = executor._ctx.placement if executor._ctx is not None else None
            assert placement is not None and placement.enabled
            spec = functions.spec(CODE)
            for _ in range(QUIET_STARTS + 2):
                await call(executor, spec)
            (env,) = list(executor._pool)
            pid = env.pid  # the host's pid (the function sees itself as pid 1)
            assert len(os.sched_getaffinity(pid)) == 1 and os.sched_getaffinity(pid) == os.sched_getaffinity(0)
            crashed = await call(executor, spec, b'{"crash": true}')
            assert crashed.function_error == "Unhandled" and placement.in_flight == 0
            # A zygote that starts while the loop is pinned still gives its environments every CPU.
            zygote = next(iter(executor._zygotes.values()))
            os.kill(zygote.pid, signal.SIGKILL)
            while zygote.alive:
                await call(executor, spec)
            executor.retire(spec.function_arn)  # the next invoke needs a new environment, so a new zygote
            assert (await call(executor, spec)).function_error is None
            restarted = next(iter(executor._zygotes.values()))
            assert restarted is not zygote and os.sched_getaffinity(restarted.pid) == ALL
            assert placement.in_flight == 0
        finally:
            await executor.close()
        assert os.sched_getaffinity(0) == ALL

    loop.run(body())
    assert os.sched_getaffinity(0) == ALL
