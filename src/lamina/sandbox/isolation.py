"""What isolation this host allows, decided once at start-up and reported in `/health`.

Levels, strongest first: `NAMESPACES` (mount, pid, ipc, uts namespaces, a private root, an unprivileged
uid; plus cgroups when a writable hierarchy exists) and `FALLBACK` (plain processes in their own session
with rlimits). The fallback is chosen when the process is not root or the zygote could not build its
template root, or when `SandboxSettings.force_fallback` asks for it; it is logged as a warning, because a
function can then read what the platform's user can read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from enum import Enum

from .cgroups import CgroupLayout, CgroupVersion

log = logging.getLogger(__name__)


class NetworkIsolationUnavailable(RuntimeError):
    """`--function-network isolated` on a host that cannot give environments their own network namespace:
    Lamina refuses to start rather than run functions on the host's network unannounced."""


def require_network_namespace(isolation: Isolation) -> None:
    if not isolation.network_namespace:
        why = "; ".join(isolation.reasons) or "network namespaces are unavailable"
        raise NetworkIsolationUnavailable(
            f"--function-network isolated needs a network namespace per execution environment (root, and a "
            f"kernel that allows namespaces), which this host does not give ({why}); use --function-network host"
        )


class IsolationLevel(Enum):
    NAMESPACES = "namespaces"
    FALLBACK = "fallback"


@dataclass
class Isolation:
    level: IsolationLevel
    cgroups: CgroupLayout
    network_namespace: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def isolated(self) -> bool:
        return self.level is IsolationLevel.NAMESPACES

    def report(self) -> dict[str, object]:
        namespaces = ["mount", "pid", "ipc", "uts"] + (["net"] if self.network_namespace else [])
        return {
            "level": self.level.value,
            "namespaces": namespaces if self.isolated else [],
            "private_root": self.isolated,
            "unprivileged_uid": self.isolated,
            "cgroups": self.cgroups.version.value,
            "limits": (["memory", "cpu", "pids"] if self.cgroups.version is not CgroupVersion.NONE else ["rlimits"]),
            "fallback": not self.isolated,
            "reasons": list(self.reasons),
        }


def preliminary(force_fallback: bool, cgroups: CgroupLayout, network_namespace: bool) -> Isolation:
    """The level the host can offer before the zygote has tried; the zygote's answer may lower it."""
    reasons: list[str] = []
    level = IsolationLevel.NAMESPACES
    if force_fallback:
        level = IsolationLevel.FALLBACK
        reasons.append("fallback forced by settings")
    elif os.geteuid() != 0:
        level = IsolationLevel.FALLBACK
        reasons.append("not running as root: namespaces, private root and uid drop unavailable")
    if cgroups.version is CgroupVersion.NONE and cgroups.reason:
        reasons.append(f"cgroups unavailable: {cgroups.reason}")
    if level is IsolationLevel.FALLBACK:
        cgroups = CgroupLayout(CgroupVersion.NONE, reason="fallback")
    return Isolation(level, cgroups, network_namespace and level is IsolationLevel.NAMESPACES, reasons)


def warn_if_weak(isolation: Isolation) -> None:
    if not isolation.isolated:
        log.warning(
            "Lamina runs functions WITHOUT sandboxing (plain processes with rlimits): %s. A function can read "
            "and write whatever this process's user can.",
            "; ".join(isolation.reasons) or "host refused namespaces",
        )
    elif isolation.cgroups.version is CgroupVersion.NONE:
        log.warning("Lamina runs functions without cgroups: memory, CPU and pids limits fall back to rlimits")
