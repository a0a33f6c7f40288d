"""Settings of the execution data plane, built once at start-up and passed down (nothing here reads the
process environment).

Invariants: every duration is in seconds of the injected `Clock`; limits are per host (one `Executor`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


def _default_interpreters() -> tuple[tuple[str, str], ...]:
    # The platform's own interpreter serves every python3.x runtime unless told otherwise: it is the one
    # interpreter we know exists. Hosts with more versions map them explicitly.
    return ()


@dataclass(frozen=True)
class SandboxSettings:
    """How execution environments are built, kept and limited.

    `python_interpreters` maps a runtime name (``python3.13``) to an interpreter path; a Python runtime
    missing from the map runs on `default_python` and the environment's log says so.
    `force_fallback` turns isolation off (plain processes with rlimits) even where the host allows it, so
    the fallback is testable on a capable machine.
    """

    idle_timeout_s: float = 300.0
    max_environments: int = 256
    init_timeout_s: float = 10.0
    network_namespace: bool = False
    force_fallback: bool = False
    use_zygote: bool = True
    default_python: str = field(default_factory=lambda: sys.executable)
    python_interpreters: tuple[tuple[str, str], ...] = field(default_factory=_default_interpreters)
    node_binary: str = "node"
    cgroup_pool_size: int = 8
    spare_environments: int = 4  # per zygote, forked and attached to a cgroup ahead of time
    pids_limit: int = 1024
    # Host-wide bounds on all environments together (host_bounds.py); None: derived from the host.
    max_environment_memory_mb: int | None = None
    max_environment_pids: int | None = None
    uid_base: int = 61000  # environments run as uid/gid uid_base + slot, never as root
    uid_count: int = 4096
    max_log_bytes_per_invocation: int = 1 << 20  # beyond this an invocation's output is dropped
    max_log_bytes_per_stream: int = 16 << 20
    max_log_bytes_per_group: int = 256 << 20
    max_response_bytes: int = 6291556
    extra_env: tuple[tuple[str, str], ...] = ()
    runtime_dir: Path | None = None  # Lamina's runtimes; default: the package's `sandbox/runtimes`
    # KSM for environments: "auto" (as root), "on" or "off" (memory_merge.py). Off unless asked, so that an
    # Executor built directly (tests, embedding) leaves the host alone; `lamina serve` asks for "auto".
    memory_merge: str = "off"
    # Pin the loop and the environment to one CPU while invocations come one at a time (placement.py). Off
    # unless asked, so that an Executor built directly leaves its caller's thread alone; `lamina serve` asks.
    cpu_placement: bool = False

    def python_for(self, runtime: str) -> str:
        for name, path in self.python_interpreters:
            if name == runtime:
                return path
        return self.default_python
