"""Which CPUs warm invocations run on: all on one while they come one at a time, every CPU under load.

A warm invoke hands the event to the runtime and the reply back, and each hand-over wakes a sleeping
process. When that process last ran on another CPU, which is idle by then, the waker must interrupt that
CPU out of its halt, and on a VM whose guest does not poll before halting (this machine boots with
`haltpoll.guest_halt_poll_ns=0`) that costs tens of microseconds per wake-up. With the runtime on the
event loop's CPU, the loop writes the event and goes to sleep, and the runtime runs on the same CPU without
any interrupt; the reply comes back the same way. `bench/invoke_bench.py` shows the effect (run it with
`--cpu-placement off` for the comparison).

So, once invocations have come strictly one at a time for `QUIET_STARTS` starts in a row and the
environment's previous invocation was short, the event loop's thread and that environment are pinned to
the CPU the loop runs on (a system call only when that changes). The first start that finds another
invocation in flight lets the loop, the pinned environment still running and its own environment float
over every CPU again, so concurrent invocations use the whole machine. An idle pinned environment stays
pinned (it uses no CPU) until its next invocation decides again. Long invocations are not pinned: they
gain nothing from a faster hand-over and would share the loop's CPU; a pinned one still running after
`LONG_S` lets go of it. Threads and processes started while pinned inherit the pin: the server's threads
are released with the loop, zygotes set their own CPUs at start, and an environment's threads with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from .child import libc

log = logging.getLogger(__name__)


QUIET_STARTS = 8  # invocation starts in a row with nothing else in flight before pinning
SHORT_MS = 10.0  # an environment whose previous invocation took longer is not pinned
LONG_S = 0.05  # a pinned invocation still running after this lets go of the loop's CPU


class Placement:
    def __init__(self, enabled: bool) -> None:
        self.cpus = os.sched_getaffinity(0)  # what the platform may use; every release restores it
        self._getcpu = libc.sched_getcpu if enabled and len(self.cpus) > 1 and libc.sched_getcpu() >= 0 else None
        self.enabled = self._getcpu is not None
        self.in_flight = 0
        self._quiet = 0  # starts in a row that found nothing else in flight
        self._loop_cpu: int | None = None  # the CPU the event loop's thread is pinned to
        self._pinned: dict[int, int] = {}  # environment pid → the CPU it is pinned to
        self._running_pinned = 0  # the pid of the in-flight environment that is pinned, if any
        self._since = 0.0  # when that invocation started
        self._watch: asyncio.TimerHandle | None = None  # checks that it does not run long (one timer, re-armed)
        self.now: Callable[[], float] = time.monotonic

    def started(self, pid: int, previous_ms: float | None) -> None:
        """An invocation of the environment whose process is `pid` starts now; `previous_ms` is how long
        that environment's previous invocation took (None: this is its first)."""
        self.in_flight += 1
        if self._getcpu is None or not pid:
            return
        if self.in_flight > 1:
            self._quiet = 0
            self._spread(pid)
            return
        if previous_ms is None or previous_ms >= SHORT_MS:
            if pid in self._pinned:
                self._float(pid)
            return
        self._quiet += 1
        if self._quiet < QUIET_STARTS:
            return
        cpu = self._loop_cpu  # a pinned loop stays where it is
        if cpu is None:
            cpu = self._getcpu()
            self._loop_cpu = cpu if self._set(0, {cpu}) else None
        if self._pinned.get(pid) != cpu and self._set(pid, {cpu}):
            self._pinned[pid] = cpu
        if pid in self._pinned:
            self._running_pinned = pid
            self._since = self.now()
            if self._watch is None:
                self._watch = asyncio.get_running_loop().call_later(LONG_S, self._check)

    def ended(self, pid: int) -> None:
        """The invocation `started` announced has ended (answered, failed, timed out or its process died)."""
        self.in_flight -= 1
        if self._running_pinned == pid:
            self._running_pinned = 0

    def forget(self, pid: int) -> None:
        """The process is gone."""
        self._pinned.pop(pid, None)
        if self._running_pinned == pid:
            self._running_pinned = 0

    def close(self) -> None:
        """Give every thread of this process its CPUs back."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._loop_cpu is not None:
            self._loop_cpu = None
            self._float_threads(0)

    def report(self) -> dict[str, object]:
        return {"enabled": self.enabled, "loop_cpu": self._loop_cpu, "pinned_environments": len(self._pinned)}

    def _check(self) -> None:
        """The watch: a pinned invocation running for `LONG_S` lets go of the loop's CPU."""
        self._watch = None
        if not self._running_pinned:
            return
        ran = self.now() - self._since
        if ran >= LONG_S:
            self._quiet = 0
            self._spread(0)
        else:
            self._watch = asyncio.get_running_loop().call_later(LONG_S - ran, self._check)

    def _spread(self, pid: int) -> None:
        if self._loop_cpu is not None:
            # Every thread: those the loop started while pinned (executor workers) inherited its CPU.
            self._float_threads(0)
            self._loop_cpu = None
        if self._running_pinned:
            self._float(self._running_pinned)
            self._running_pinned = 0
        if pid in self._pinned:
            self._float(pid)

    def _float(self, pid: int) -> None:
        self._float_threads(pid)
        self._pinned.pop(pid, None)

    def _float_threads(self, pid: int) -> None:
        """All threads of process `pid` (0: this one) may use every CPU again."""
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid or os.getpid()}/task")]
        except OSError:
            return
        for tid in tids:
            self._set(tid, self.cpus)

    @staticmethod
    def _set(pid: int, cpus: set[int]) -> bool:
        """`pid` 0: the calling thread (the event loop's)."""
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError as exc:  # gone meanwhile, or not ours to move: it floats, as without placement
            log.debug("cannot set the CPUs of process %d: %s", pid, exc)
            return False
        return True
