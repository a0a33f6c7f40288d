"""Test harness for the execution data plane: an event loop, an executor, and function packages on disk.

Every executor a test starts is closed by its fixture, even when the test fails, and `assert_no_leftovers`
checks that no environment process outlived it.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import uvloop

from lamina.clock import Clock, SystemClock
from lamina.invoke.executor import Executor
from lamina.sandbox.settings import SandboxSettings
from lamina.types import Invocation, InvocationResult, VersionSpec

T = TypeVar("T")
ACCOUNT = "000000000000"


class Loop:
    """One uvloop event loop driven synchronously by the tests."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class Functions:
    """Writes function packages (code directories) under a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, files: dict[str, str], name: str | None = None, mode: int = 0o644) -> Path:
        code_dir = self.root / (name or uuid.uuid4().hex[:12])
        code_dir.mkdir(parents=True, exist_ok=True)
        code_dir.chmod(0o755)
        for rel, text in files.items():
            path = code_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
            path.chmod(0o755 if rel.endswith("bootstrap") or rel.endswith(".sh") else mode)
        return code_dir

    def spec(
        self,
        files: dict[str, str],
        handler: str = "app.handler",
        runtime: str | None = "python3.11",
        name: str | None = None,
        **overrides: Any,
    ) -> VersionSpec:
        fname = name or "fn-" + uuid.uuid4().hex[:10]
        code_dir = self.write(files, fname)
        return VersionSpec(
            function_name=fname,
            function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{fname}",
            version=overrides.pop("version", "$LATEST"),
            runtime=runtime,
            handler=handler,
            code_dir=code_dir,
            **overrides,
        )


def invocation(spec: VersionSpec, payload: bytes = b"{}", **fields: Any) -> Invocation:
    return Invocation(
        request_id=fields.pop("request_id", str(uuid.uuid4())),
        payload=payload,
        invoked_arn=fields.pop("invoked_arn", spec.function_arn),
        **fields,
    )


async def started_executor(data_dir: Path, clock: Clock | None = None, **settings: Any) -> Executor:
    executor = Executor(SandboxSettings(**settings), clock or SystemClock(), data_dir)
    await executor.start()
    return executor


async def call(executor: Executor, spec: VersionSpec, payload: bytes = b"{}", **fields: Any) -> InvocationResult:
    return await executor.invoke(spec, invocation(spec, payload, **fields))


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a real process to reach a state (not for time to pass: timeouts use the virtual clock)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.002)


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    for _ in range(6):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                pid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError):
            return False
        if pid == me:
            return True
    return False


def environment_pids(data_dir: Path | None = None) -> set[int]:
    """Live processes forked by a zygote of this test process (other Lamina processes on the host are
    not ours to count); with `data_dir`, only those of the executor using it (another executor of the
    session may be preparing a spare meanwhile)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if data_dir is not None and str(data_dir).encode() not in cmd:
            continue
        if b"from child import zygote" in cmd and stat[0] != b"Z" and _descends_from_us(int(entry)):
            found.add(int(entry))
    return found


def run_with_executor(loop: Loop, data_dir: Path, body: Callable[[Executor], Awaitable[T]], **settings: Any) -> T:
    async def go() -> T:
        executor = await started_executor(data_dir, **settings)
        try:
            return await body(executor)
        finally:
            await executor.close()

    return loop.run(go())
