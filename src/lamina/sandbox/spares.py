"""Residents: one small forked process per prepared cgroup that forks environments *inside* it.

Why: on this host a cgroup v1 attach (writing a pid to `cgroup.procs`) waits for an RCU grace period,
10-15 ms, and while it waits every fork and exit on the machine stalls behind the same lock. A child is
born in its parent's cgroup without any attach, so each resident attaches once, then forks environment
after environment into its cgroup (one at a time; the group's limits are set per environment). It forks
each environment ahead of need (pid 1 of a new pid namespace, namespaces unshared, /proc and /tmp
mounted, pivoted into its private root), so a cold start is: send the assignment straight to that
environment on the resident's channel, attach the code, drop privileges, import the handler.

Invariants: a resident hosts at most one environment at a time; it is in the idle deque only while
hosting none; its cgroup lives and dies with it; the pool refills itself in the background and keeps at
most `2 * size` idle residents (the rest are stopped).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import functools
import json
import logging
import socket
from collections import deque
from dataclasses import dataclass
from typing import Any

from .cgroups import Cgroup, CgroupPool
from .zygote import ZygoteDied, ZygoteProcess

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Spare:
    pid: int
    cgroup: Cgroup | None
    pool: SparePool
    alive: bool = True
    used: bool = False
    channel: socket.socket | None = None  # assignments, read by the environment standing by
    standby: int | None = None  # pid of the environment standing by, not yet assigned
    waiter: asyncio.Future[int] | None = None  # an assignment sent before its environment stood by

    def on_standby(self, pid: int) -> None:
        if self.standby is not None:
            self.pool.zygote.discard_exit(self.standby)  # it ended unassigned; the resident forked another
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(pid)
            self.waiter = None
        else:
            self.standby = pid

    async def assign(self, msg: dict[str, Any], fds: list[int]) -> int:
        """Send a spawn message straight to the environment standing by; returns its pid."""
        if self.channel is None or not self.alive:
            raise OSError("the resident exited")
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        self.channel.sendmsg([json.dumps(msg).encode()], ancillary)
        if self.standby is not None:
            pid, self.standby = self.standby, None
            return pid
        self.waiter = asyncio.get_running_loop().create_future()
        return await self.waiter

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(OSError("the resident exited"))
        self.waiter = None
        if self.standby is not None:
            self.pool.zygote.discard_exit(self.standby)
            self.standby = None
        self.pool.zygote.forget_resident(self.pid)


REFILL_DELAY = 0.01  # seconds between handing out a spare and preparing its replacement


class SparePool:
    def __init__(
        self, zygote: ZygoteProcess, cgroups: CgroupPool | None, size: int, plan: dict[str, Any], pids_limit: int
    ) -> None:
        self.zygote = zygote
        self.cgroups = cgroups
        self.size = size
        self.plan = plan
        self.pids_limit = pids_limit
        self._ready: deque[Spare] = deque()
        self._refilling: asyncio.Task[None] | None = None
        self._closed = False
        self._failures = 0

    def take(self) -> Spare | None:
        spare = self._ready.popleft() if self._ready else None
        if spare is not None:
            spare.used = True
        self.refill(after=REFILL_DELAY)
        return spare

    def refill(self, after: float = 0.0) -> None:
        if self._closed or self.size <= 0 or not self.zygote.alive:
            return
        if self._refilling is None or self._refilling.done():
            self._refilling = asyncio.get_running_loop().create_task(self._refill(after))

    async def _refill(self, after: float = 0.0) -> None:
        if after:
            # Let the cold start that took a spare finish first (~5 ms): preparing the replacement at the same
            # moment (a fork, a cgroup v1 attach, the standby's mounts) competes for the two CPUs. Not much
            # longer: in a burst of cold starts of new functions a 50 ms delay let the pool run dry and
            # one in five cold starts fell back to a fresh fork + attach (p90 38 ms -> 14 ms).
            await asyncio.sleep(after)
        while not self._closed and len(self._ready) < self.size and self.zygote.alive:
            cgroup = None
            if self.cgroups is not None:
                cgroup = self.cgroups.acquire()
                cgroup.configure(128, self.pids_limit)
            plan = dict(self.plan)
            if cgroup is not None:
                plan["cgroup_procs"] = cgroup.procs_files
            spare = Spare(0, cgroup, self)
            forking = asyncio.ensure_future(self.zygote.prefork(plan, spare.on_standby))
            try:
                # Shielded: a prefork cut short by close() would leave a resident nobody tracks.
                pid, channel = await asyncio.shield(forking)
            except asyncio.CancelledError:
                with contextlib.suppress(OSError, ZygoteDied):
                    pid, channel = await forking
                    channel.close()
                    self.zygote.forget_resident(pid)
                    self.zygote.kill(pid)
                if cgroup is not None and self.cgroups is not None:
                    self.cgroups.release(cgroup)
                raise
            except (OSError, ZygoteDied) as exc:
                log.warning("cannot prepare a spare environment: %s", exc)
                if cgroup is not None and self.cgroups is not None:
                    self.cgroups.release(cgroup)
                return
            spare.pid, spare.channel = pid, channel
            self._ready.append(spare)
            self.zygote.watch(pid, functools.partial(self._on_exit, spare))

    def give_back(self, spare: Spare) -> None:
        """The environment it hosted is gone: the resident may host the next one."""
        if spare.alive and not self._closed and len(self._ready) < 2 * self.size:
            if spare.cgroup is not None:
                spare.cgroup.reset_peak()
            self._ready.append(spare)
            self.refill()
        else:
            self._stop(spare)

    def _stop(self, spare: Spare) -> None:
        spare.close()
        if spare.alive:
            self.zygote.kill(spare.pid)  # its exit releases the cgroup
        elif spare.cgroup is not None and self.cgroups is not None:
            self.cgroups.release(spare.cgroup)
            spare.cgroup = None

    def _on_exit(self, spare: Spare, status: int) -> None:
        if not spare.used and not self._closed:
            log.warning("resident %s ended before use: status %s", spare.pid, status)
        self._died(spare)

    def _died(self, spare: Spare) -> None:
        spare.alive = False
        spare.close()
        if not spare.used and not self._closed:
            self._failures += 1
            if self._failures >= 3:
                log.warning("residents keep dying before use; cold starts will not use them")
                self._closed = True
        else:
            self._failures = 0
        if spare in self._ready:
            self._ready.remove(spare)
        if spare.cgroup is not None and self.cgroups is not None:
            self.cgroups.release(spare.cgroup)
            spare.cgroup = None

    async def close(self) -> None:
        self._closed = True
        if self._refilling is not None:
            self._refilling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refilling
        while self._ready:
            self._stop(self._ready.popleft())
