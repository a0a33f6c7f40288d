"""Kernel same-page merging (KSM) for execution environments, decided once at start-up.

Why: every environment is a fork of its runtime's zygote, and CPython 3.11 writes reference counts into the
objects it uses, so an idle environment ends up with a few MB of private copies of zygote pages. Most of
them are byte-identical again once an invocation is over (the counts went up and back down), or identical
to the same page in another environment running the same runtime code. KSM finds such pages and maps one
read-only copy in every process (copy-on-write again on the next write), so those pages stop being private
memory of each environment.

How: zygotes opt in with `prctl(PR_SET_MEMORY_MERGE)` (Linux 6.4+), which every fork inherits, and the
kernel's `ksmd` must be running (`/sys/kernel/mm/ksm/run` = 1). Lamina turns `ksmd` on only when allowed
(`mode="on"`, or `"auto"` as root), says so at start-up and in `/health`, and stops it again when it shuts
down if it was the one that started it; the scan rate stays the host's (`pages_to_scan`,
`sleep_millisecs`). Where the host has no KSM it is reported and nothing changes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KSM = Path("/sys/kernel/mm/ksm")


@dataclass(frozen=True)
class MemoryMerge:
    enabled: bool
    reason: str
    started: Path | None = None  # the `run` file Lamina switched on (and switches off again on close)

    def report(self) -> dict[str, object]:
        return {"enabled": self.enabled, "reason": self.reason}


def _kernel_has_prctl() -> bool:
    release = os.uname().release.split("-")[0].split(".")
    try:
        major, minor = int(release[0]), int(release[1])
    except (IndexError, ValueError):
        return False
    return (major, minor) >= (6, 4)


def configure(mode: str, ksm: Path = KSM) -> MemoryMerge:
    """`mode`: "off", "on" or "auto" (on when running as root on a kernel with KSM)."""
    if mode == "off":
        return MemoryMerge(False, "turned off by settings")
    run = ksm / "run"
    if not run.exists():
        return MemoryMerge(False, "the kernel has no KSM (/sys/kernel/mm/ksm)")
    if not _kernel_has_prctl():
        return MemoryMerge(False, "the kernel is older than 6.4 (no PR_SET_MEMORY_MERGE)")
    try:
        state = run.read_text().strip()
    except OSError as exc:
        return MemoryMerge(False, f"cannot read {run}: {exc.strerror}")
    if state == "1":
        return MemoryMerge(True, "ksmd already running")
    if state == "2" and mode == "auto":
        return MemoryMerge(False, "the host asked KSM to unmerge everything (run = 2)")
    if mode == "auto" and os.geteuid() != 0:
        return MemoryMerge(False, "ksmd is stopped and Lamina is not root")
    try:
        run.write_text("1")
    except OSError as exc:
        return MemoryMerge(False, f"cannot start ksmd: {exc.strerror}")
    log.info("started the kernel's same-page merging (%s = 1) to share identical environment pages", run)
    return MemoryMerge(True, "ksmd started by Lamina", started=run)


def release(merge: MemoryMerge) -> None:
    """Put ksmd back as Lamina found it: stopped, if Lamina started it (pages already merged stay merged)."""
    if merge.started is not None:
        try:
            merge.started.write_text("0")
        except OSError as exc:
            log.warning("cannot stop ksmd again (%s): %s", merge.started, exc.strerror)
