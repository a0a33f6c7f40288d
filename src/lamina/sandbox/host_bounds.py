"""Host-wide bounds on all execution environments together: memory and pids.

Why: each environment has its own pids and memory limit, but nothing bounded their sum, so ~32 fork bombs
at once exhausted the host's 32,768 pids. All environments of one server live under one parent cgroup
(cgroups.py) whose limits are these bounds, so the kernel holds them; the executor also refuses to start an
environment that would not fit (TooManyRequestsException, as AWS answers when it cannot scale).

Why refuse rather than queue: what holds the bound is usually a busy environment (a fork bomb, a big
function) that frees it only at its timeout, up to 900 s, far longer than a request should hang; a 429 is
retried with back-off by every AWS SDK (botocore's throttling codes include it), async invokes and event
source polls retry it as a throttle, so the queueing happens where the caller can see and bound it.
Idle environments are evicted (least recently used first) before a newcomer is refused for memory.

Defaults leave headroom for the host: memory is the host's (or our own cgroup's, if lower) minus
max(1 GiB, 1/8); pids are min(pid_max, threads-max, our cgroup's pids.max) minus max(1024, 1/4).

Invariants: `derive` is pure (unit-tested without a host); a configured value is used as is, but never above
what the host has.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

GIB = 1 << 30
MIN_MEMORY_HEADROOM = GIB
MIN_PIDS_HEADROOM = 1024
# A new environment needs a few pids of its own (its runtime, the resident's fork): below this much room
# in the parent group it is refused rather than started to fail on fork.
PIDS_PER_START = 8


@dataclass(frozen=True)
class HostFacts:
    """What the host offers: total memory, the kernel's pid ceiling, and limits inherited from our cgroup."""

    memory_bytes: int
    pid_max: int
    threads_max: int | None = None
    inherited_memory_bytes: int | None = None
    inherited_pids: int | None = None


@dataclass(frozen=True)
class HostBounds:
    memory_bytes: int
    pids: int
    memory_source: str  # "configured" or "derived"
    pids_source: str

    @property
    def memory_mb(self) -> int:
        return self.memory_bytes >> 20


def derive(facts: HostFacts, memory_mb: int | None = None, pids: int | None = None) -> HostBounds:
    host_memory = min(x for x in (facts.memory_bytes, facts.inherited_memory_bytes) if x is not None)
    host_pids = min(x for x in (facts.pid_max, facts.threads_max, facts.inherited_pids) if x is not None)
    if memory_mb is not None:
        memory, memory_source = min(memory_mb << 20, host_memory), "configured"
    else:
        memory, memory_source = host_memory - max(MIN_MEMORY_HEADROOM, host_memory // 8), "derived"
    if pids is not None:
        pid_bound, pids_source = min(pids, host_pids), "configured"
    else:
        pid_bound, pids_source = host_pids - max(MIN_PIDS_HEADROOM, host_pids // 4), "derived"
    return HostBounds(max(memory, 128 << 20), max(pid_bound, PIDS_PER_START), memory_source, pids_source)


def _int_file(path: Path) -> int | None:
    """A cgroup/proc number; None when absent, unreadable or unlimited ("max", or v1's huge sentinel)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    value = int(text)
    return None if value >= 1 << 62 else value


def read_facts(inherited: tuple[Path, ...] = (), proc: Path = Path("/proc")) -> HostFacts:
    """The host's facts; `inherited` are the cgroup directories we create environments under (their own
    limits, e.g. a container's, bound us too)."""
    memory = 0
    with contextlib.suppress(OSError):
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    pid_max = _int_file(proc / "sys/kernel/pid_max") or 32768
    threads_max = _int_file(proc / "sys/kernel/threads-max")
    memories = [_int_file(d / name) for d in inherited for name in ("memory.limit_in_bytes", "memory.max")]
    pid_limits = [_int_file(d / "pids.max") for d in inherited]
    return HostFacts(
        memory_bytes=memory or 4 * GIB,
        pid_max=pid_max,
        threads_max=threads_max,
        inherited_memory_bytes=min((m for m in memories if m is not None), default=None),
        inherited_pids=min((p for p in pid_limits if p is not None), default=None),
    )
