"""Host-wide bounds on all environments: how they are derived from the host, and written to the parent group."""

from __future__ import annotations

import os
from pathlib import Path

from lamina.sandbox.cgroups import CgroupPool, CgroupVersion, detect
from lamina.sandbox.host_bounds import GIB, HostBounds, HostFacts, derive, read_facts
from tests.sandbox.test_cgroups import fake_v1


def test_defaults_leave_headroom_for_the_host() -> None:
    bounds = derive(HostFacts(memory_bytes=24 * GIB, pid_max=32768, threads_max=192739))
    assert bounds.pids == 32768 - 8192  # a quarter of pid_max stays with the host
    assert bounds.memory_bytes == 24 * GIB - 3 * GIB  # an eighth of the memory
    assert (bounds.memory_source, bounds.pids_source) == ("derived", "derived")


def test_small_hosts_keep_at_least_the_minimum_headroom() -> None:
    bounds = derive(HostFacts(memory_bytes=4 * GIB, pid_max=2048))
    assert bounds.memory_bytes == 3 * GIB  # 1 GiB, more than an eighth
    assert bounds.pids == 1024  # 1024, more than a quarter


def test_the_lowest_ceiling_wins_threads_max_and_inherited_limits() -> None:
    facts = HostFacts(
        memory_bytes=64 * GIB, pid_max=4194304, threads_max=40000, inherited_memory_bytes=8 * GIB, inherited_pids=8000
    )
    bounds = derive(facts)
    assert bounds.pids == 8000 - 2000
    assert bounds.memory_bytes == 7 * GIB


def test_configured_values_are_used_but_never_above_the_host() -> None:
    facts = HostFacts(memory_bytes=8 * GIB, pid_max=32768)
    assert derive(facts, memory_mb=512, pids=200) == HostBounds(512 << 20, 200, "configured", "configured")
    too_much = derive(facts, memory_mb=1 << 20, pids=10**6)
    assert (too_much.memory_bytes, too_much.pids) == (8 * GIB, 32768)


def test_reads_the_host_and_the_inherited_group(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "sys/kernel").mkdir(parents=True)
    (proc / "meminfo").write_text("MemTotal:       24683792 kB\nMemFree:  1 kB\n")
    (proc / "sys/kernel/pid_max").write_text("32768\n")
    (proc / "sys/kernel/threads-max").write_text("192739\n")
    group = tmp_path / "group"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "unlimited"
    (group / "pids.max").write_text("max\n")
    facts = read_facts((group,), proc)
    assert facts == HostFacts(24683792 * 1024, 32768, 192739, None, None)
    (group / "pids.max").write_text("5000\n")
    assert read_facts((group,), proc).inherited_pids == 5000


def test_pool_writes_its_bounds_to_its_parent_and_leaves_a_shared_parent_alone(tmp_path: Path) -> None:
    layout = detect(tmp_path, fake_v1(tmp_path))
    assert layout.version is CgroupVersion.V1 and layout.memory is not None and layout.pids is not None
    own_name = f"lamina/lamina-{os.getpid()}-{CgroupPool._instances + 1}"
    for base in layout.bases:  # cgroupfs makes these files in every new group; a fake needs them ahead
        for name in ("lamina", own_name):  # "lamina": made by another server, with its limits
            (base / name).mkdir(parents=True, exist_ok=True)
            for file in ("memory.limit_in_bytes", "pids.max"):
                (base / name / file).write_text("")
    own = HostBounds(512 << 20, 200, "configured", "configured")
    pool = CgroupPool(layout, size=1, bounds=own, shared=HostBounds(8 * GIB, 24576, "derived", "derived"))
    pool.start()
    try:
        assert (pool.pids_parent / "pids.max").read_text() == "200"
        memory_parent = next(p for p in pool.parents if p.is_relative_to(layout.memory))
        assert (memory_parent / "memory.limit_in_bytes").read_text() == str(512 << 20)
        assert (memory_parent / "pids.max").read_text() == ""  # each v1 hierarchy gets its own bound
        assert pool.parent_pids() == (0, 200)
        assert not pool.bound_errors
    finally:
        pool.close()
    assert (layout.pids / "lamina" / "pids.max").read_text() == ""  # not rewritten, not removed


def test_v2_pool_writes_both_bounds_in_one_directory_and_removes_a_dead_servers_parent(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    proc = tmp_path / "self-cgroup"
    proc.write_text("0::/svc\n")
    (tmp_path / "svc").mkdir()
    layout = detect(tmp_path, proc)
    own = layout.bases[0] / "lamina" / f"lamina-{os.getpid()}-{CgroupPool._instances + 1}"
    dead = layout.bases[0] / "lamina" / "lamina-999999999-1"  # no such pid: a server killed with -9
    for directory in (own, dead / "env-3"):
        directory.mkdir(parents=True)
        for name in ("memory.max", "pids.max", "cgroup.procs"):
            (directory / name).write_text("")
    (dead / "env-3" / "cgroup.procs").unlink()  # rmdir of a fake group needs it empty
    (dead / "env-3" / "memory.max").unlink()
    (dead / "env-3" / "pids.max").unlink()
    pool = CgroupPool(layout, size=1, bounds=HostBounds(1 * GIB, 300, "configured", "configured"))
    pool.start()
    try:
        assert pool.pids_parent == own
        assert (own / "memory.max").read_text() == str(GIB) and (own / "pids.max").read_text() == "300"
        assert not dead.exists()
    finally:
        pool.close()
