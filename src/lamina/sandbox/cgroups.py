"""Control groups for execution environments: memory limit, CPU share, pids limit, peak memory, kill-all.

Why a pool: creating a cgroup (mkdir in cgroupfs) has a 10-15 ms tail on this class of machine, which
would dominate a 5 ms cold start. `CgroupPool` keeps `size` empty groups ready, made in a worker thread;
taking one costs three small writes (the limits). Used groups are destroyed in the worker thread too.

Layout: each `Executor` owns ``<controller mount>/<own cgroup>/lamina/lamina-<pid>-<n>/env-<n>``, so several
platform processes on one host never touch each other's groups; a parent left by a dead process is removed at
start. Host bounds (host_bounds.py): ``lamina-<pid>-<n>`` carries this server's bounds (memory, pids), and the
shared ``lamina`` above it the host-derived default bounds, written once by whichever server creates it and
never removed (another server may be creating a group in it), so several servers together stay bounded too.

Invariants: a group handed out is empty and its limits are set before any process joins it (the process
joins it itself, first thing after fork, so no function code ever runs outside it); a released group is
only removed once empty. v1 and v2 are driven through the same `Cgroup` interface.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .host_bounds import HostBounds

log = logging.getLogger(__name__)

VCPU_MB = 1769  # Lambda: 1,769 MB of memory buys one vCPU


class CgroupVersion(Enum):
    NONE = "none"
    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True)
class CgroupLayout:
    """Where this process may create environment groups, per controller (v1) or once (v2)."""

    version: CgroupVersion
    memory: Path | None = None
    cpu: Path | None = None
    pids: Path | None = None
    unified: Path | None = None
    reason: str = ""

    @property
    def bases(self) -> tuple[Path, ...]:
        if self.version is CgroupVersion.V2 and self.unified is not None:
            return (self.unified,)
        return tuple(p for p in (self.memory, self.cpu, self.pids) if p is not None)


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    owned: dict[str, str] = {}
    for line in proc_cgroup.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            owned[name] = path
    return owned


def detect(root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> CgroupLayout:
    """Find a writable cgroup hierarchy with memory, cpu and pids control: v1 first (this host mounts the
    controllers there), else v2 with those controllers available."""
    try:
        owned = _own_cgroups(proc_cgroup)
    except OSError as exc:
        return CgroupLayout(CgroupVersion.NONE, reason=f"cannot read {proc_cgroup}: {exc}")
    v1: dict[str, Path] = {}
    for ctrl in ("memory", "cpu", "pids"):
        mount = root / ctrl
        if (mount / "cgroup.procs").exists() and ctrl in owned:
            v1[ctrl] = mount / owned[ctrl].lstrip("/")
    if len(v1) == 3 and all(os.access(p, os.W_OK) for p in v1.values()):
        return CgroupLayout(CgroupVersion.V1, memory=v1["memory"], cpu=v1["cpu"], pids=v1["pids"])
    for candidate in (root, root / "unified"):
        controllers = candidate / "cgroup.controllers"
        if not controllers.exists():
            continue
        available = set(controllers.read_text().split())
        if {"memory", "pids"} <= available and "" in owned:
            base = candidate / owned[""].lstrip("/")
            if os.access(base, os.W_OK):
                return CgroupLayout(CgroupVersion.V2, unified=base)
    missing = "memory/cpu/pids controllers not found or not writable"
    return CgroupLayout(CgroupVersion.NONE, reason=missing)


class Cgroup:
    """One environment's group (a directory per v1 controller, or one v2 directory)."""

    def __init__(self, version: CgroupVersion, dirs: tuple[Path, ...]) -> None:
        self.version = version
        self.dirs = dirs
        self._peak_fd: int | None = None  # kept open: opening a cgroupfs file costs ~70 µs, pread ~3 µs

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def _file(self, controller: str, name: str) -> Path:
        if self.version is CgroupVersion.V2:
            return self.dirs[0] / name
        index = {"memory": 0, "cpu": 1, "pids": 2}[controller]
        return self.dirs[index] / name

    def configure(self, memory_mb: int, pids: int) -> None:
        limit = memory_mb * 1024 * 1024
        if self.version is CgroupVersion.V1:
            _write(self._file("memory", "memory.limit_in_bytes"), str(limit))
            _write(self._file("cpu", "cpu.shares"), str(max(2, memory_mb * 1024 // VCPU_MB)))
            _write(self._file("pids", "pids.max"), str(pids))
        else:
            _write(self._file("memory", "memory.max"), str(limit))
            with contextlib.suppress(OSError):
                _write(self._file("memory", "memory.swap.max"), "0")
            with contextlib.suppress(OSError):
                _write(self._file("cpu", "cpu.weight"), str(max(1, min(10000, memory_mb * 100 // VCPU_MB))))
            _write(self._file("pids", "pids.max"), str(pids))

    def peak_memory_bytes(self) -> int | None:
        """Read on every invoke (REPORT's Max Memory Used), so through one descriptor kept open."""
        name = "memory.max_usage_in_bytes" if self.version is CgroupVersion.V1 else "memory.peak"
        try:
            if self._peak_fd is None:
                self._peak_fd = os.open(self._file("memory", name), os.O_RDONLY | os.O_CLOEXEC)
            return int(os.pread(self._peak_fd, 64, 0))
        except (OSError, ValueError):
            return None

    def _close_peak(self) -> None:
        if self._peak_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._peak_fd)
            self._peak_fd = None

    def reset_peak(self) -> None:
        """Start a new peak (a reused group serves a new environment). Best effort: v2 needs Linux 6.12."""
        name = "memory.max_usage_in_bytes" if self.version is CgroupVersion.V1 else "memory.peak"
        with contextlib.suppress(OSError):
            _write(self._file("memory", name), "0")

    def oom_kills(self) -> int:
        """How many times the kernel's OOM killer fired in this group (the memory limit was hit)."""
        try:
            if self.version is CgroupVersion.V1:
                text = self._file("memory", "memory.oom_control").read_text()
            else:
                text = self._file("memory", "memory.events").read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value.strip() or 0)
        return 0

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer fired in this group (the memory limit was hit)."""
        return self.oom_kills() > 0

    def pids_current(self) -> int:
        try:
            return int(self._file("pids", "pids.current").read_text())
        except (OSError, ValueError):
            return 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(found)

    def kill_all(self) -> None:
        """Kill every process in the group. v2 has one atomic file for it; on v1 repeat until empty, since a
        forking process can add members while we iterate (the pids limit bounds the rounds)."""
        if self.version is CgroupVersion.V2:
            with contextlib.suppress(OSError):
                _write(self.dirs[0] / "cgroup.kill", "1")
                return
        for _ in range(100):
            members = self.pids()
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        self._close_peak()
        ok = True
        for d in self.dirs:
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno == errno.EBUSY:
                    ok = False
                else:
                    raise
        return ok


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


class CgroupPool:
    """Ready-made empty groups, refilled and reclaimed by one worker thread (see the module docstring)."""

    _instances = 0

    def __init__(
        self, layout: CgroupLayout, size: int, bounds: HostBounds | None = None, shared: HostBounds | None = None
    ) -> None:
        self.layout = layout
        self.size = max(1, size)
        self.bounds = bounds
        self.shared_bounds = shared
        self.bound_errors: list[str] = []  # limits the kernel refused (then only admission holds them)
        CgroupPool._instances += 1
        name = f"lamina-{os.getpid()}-{CgroupPool._instances}"  # several executors may share a process
        self.shared = tuple(base / "lamina" for base in layout.bases)
        self.parents = tuple(shared / name for shared in self.shared)
        self._ready: deque[Cgroup] = deque()
        self._doomed: deque[Cgroup] = deque()
        self._counter = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for shared in self.shared:
            try:
                shared.mkdir()
            except FileExistsError:
                continue
            self._enable_controllers(shared)
            if self.shared_bounds is not None:
                self._limit(shared, self.shared_bounds)
        self._remove_stale()
        for parent in self.parents:
            parent.mkdir(exist_ok=True)
        self._enable_controllers(self.parents[0])
        if self.bounds is not None:
            for parent in self.parents:
                self._limit(parent, self.bounds)
        for _ in range(self.size):
            self._ready.append(self._create())
        self._thread = threading.Thread(target=self._work, name="lamina-cgroups", daemon=True)
        self._thread.start()

    def _enable_controllers(self, directory: Path) -> None:
        if self.layout.version is CgroupVersion.V2:
            with contextlib.suppress(OSError):
                _write(directory / "cgroup.subtree_control", "+memory +pids +cpu")

    def _limit(self, directory: Path, bounds: HostBounds) -> None:
        """Write `bounds` into whichever of the two controllers `directory` belongs to (v1), or both (v2)."""
        wanted: list[tuple[str, int]] = []
        v2 = self.layout.version is CgroupVersion.V2
        if v2 or (self.layout.memory is not None and directory.is_relative_to(self.layout.memory)):
            wanted.append(("memory.max" if v2 else "memory.limit_in_bytes", bounds.memory_bytes))
        if v2 or (self.layout.pids is not None and directory.is_relative_to(self.layout.pids)):
            wanted.append(("pids.max", bounds.pids))
        for name, value in wanted:
            try:
                _write(directory / name, str(value))
            except OSError as exc:
                self.bound_errors.append(f"{directory / name}: {exc.strerror or exc}")
                log.warning("cannot bound environments: %s = %d: %s", directory / name, value, exc)

    @property
    def pids_parent(self) -> Path:
        """This server's parent group in the pids hierarchy (the one directory on v2)."""
        if self.layout.version is CgroupVersion.V1 and self.layout.pids is not None:
            return next(p for p in self.parents if p.is_relative_to(self.layout.pids))
        return self.parents[0]

    def parent_pids(self) -> tuple[int, int | None]:
        """(pids.current, pids.max) of this server's parent group; max None when unlimited or unreadable."""
        pids_dir = self.pids_parent
        try:
            current = int((pids_dir / "pids.current").read_text())
        except (OSError, ValueError):
            current = 0
        try:
            text = (pids_dir / "pids.max").read_text().strip()
        except OSError:
            return current, None
        return current, int(text) if text.isdigit() else None

    def _remove_stale(self) -> None:
        with contextlib.suppress(OSError):
            self._remove_stale_parents()

    def _remove_stale_parents(self) -> None:
        for base in self.layout.bases + self.shared:  # before the shared parent, groups lived in the base
            for parent in base.glob("lamina-*"):
                pid = parent.name.removeprefix("lamina-").split("-")[0]
                if not pid.isdigit() or Path(f"/proc/{pid}").exists():
                    continue
                for child in parent.iterdir():
                    if child.is_dir():
                        Cgroup(self.layout.version, (child,)).kill_all()
                        with contextlib.suppress(OSError):
                            child.rmdir()
                with contextlib.suppress(OSError):
                    parent.rmdir()

    def _create(self) -> Cgroup:
        with self._lock:
            self._counter += 1
            name = f"env-{self._counter}"
        dirs = tuple(parent / name for parent in self.parents)
        for d in dirs:
            d.mkdir()
        if self.layout.version is CgroupVersion.V1:
            # Charge only what the environment allocates after joining, and let the OOM killer act.
            with contextlib.suppress(OSError):
                _write(dirs[0] / "memory.swappiness", "0")
        return Cgroup(self.layout.version, dirs)

    def acquire(self) -> Cgroup:
        """A ready group; made synchronously only if the pool ran dry (the slow path)."""
        try:
            group = self._ready.popleft()
        except IndexError:
            group = self._create()
        self._wake.set()
        return group

    def release(self, group: Cgroup) -> None:
        """Kill what is left in the group and remove it, off the caller's thread."""
        self._doomed.append(group)
        self._wake.set()

    def _work(self) -> None:
        while not self._closing:
            self._wake.wait(0.5)
            self._wake.clear()
            self._reclaim()
            while not self._closing and len(self._ready) < self.size:
                try:
                    self._ready.append(self._create())
                except OSError as exc:
                    log.warning("cannot prepare a cgroup: %s", exc)
                    break

    def _reclaim(self) -> None:
        for _ in range(len(self._doomed)):
            group = self._doomed.popleft()
            group.kill_all()
            try:
                done = group.remove()
            except OSError as exc:
                log.warning("cannot remove cgroup %s: %s", group.dirs, exc)
                continue
            if not done:
                self._doomed.append(group)  # processes still exiting; next round

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        while self._ready:
            self._doomed.append(self._ready.popleft())
        for _ in range(200):
            self._reclaim()
            if not self._doomed:
                break
            threading.Event().wait(0.01)
        for parent in self.parents:
            with contextlib.suppress(OSError):
                parent.rmdir()
