"""cgroup detection and configuration against fake cgroup file systems (v1 and v2)."""

from __future__ import annotations

from pathlib import Path

from lamina.sandbox.cgroups import Cgroup, CgroupPool, CgroupVersion, detect


def fake_v1(root: Path) -> Path:
    for ctrl in ("memory", "cpu", "pids"):
        (root / ctrl / "box").mkdir(parents=True)
        (root / ctrl / "cgroup.procs").write_text("")
    proc = root / "self-cgroup"
    proc.write_text("4:memory:/box\n3:cpu,cpuacct:/box\n2:pids:/box\n0::/\n")
    return proc


def test_detects_v1_under_own_cgroup(tmp_path: Path) -> None:
    layout = detect(tmp_path, fake_v1(tmp_path))
    assert layout.version is CgroupVersion.V1
    assert layout.memory == tmp_path / "memory" / "box"
    assert layout.cpu == tmp_path / "cpu" / "box"


def test_detects_v2_and_configures_limits(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "svc").mkdir()
    proc = tmp_path / "self-cgroup"
    proc.write_text("0::/svc\n")
    layout = detect(tmp_path, proc)
    assert layout.version is CgroupVersion.V2 and layout.unified == tmp_path / "svc"
    group_dir = tmp_path / "svc" / "env"
    group_dir.mkdir()
    for name in ("memory.max", "memory.swap.max", "cpu.weight", "pids.max"):  # as cgroupfs provides them
        (group_dir / name).write_text("")
    group = Cgroup(CgroupVersion.V2, (group_dir,))
    group.configure(1769, 64)
    assert (group_dir / "memory.max").read_text() == str(1769 << 20)
    assert (group_dir / "cpu.weight").read_text() == "100"  # one vCPU = the default weight
    assert (group_dir / "pids.max").read_text() == "64"
    (group_dir / "memory.peak").write_text("5242880\n")
    assert group.peak_memory_bytes() == 5242880
    (group_dir / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_killed()


def test_v1_limits_scale_cpu_with_memory(tmp_path: Path) -> None:
    dirs = tuple(tmp_path / c for c in ("memory", "cpu", "pids"))
    for d, files in zip(dirs, (["memory.limit_in_bytes"], ["cpu.shares"], ["pids.max"]), strict=True):
        d.mkdir()
        for name in files:
            (d / name).write_text("")
    group = Cgroup(CgroupVersion.V1, dirs)
    group.configure(128, 100)
    assert (dirs[0] / "memory.limit_in_bytes").read_text() == str(128 << 20)
    assert (dirs[1] / "cpu.shares").read_text() == str(128 * 1024 // 1769)
    assert (dirs[2] / "pids.max").read_text() == "100"
    assert group.procs_files == [str(d / "cgroup.procs") for d in dirs]


def test_none_when_nothing_writable(tmp_path: Path) -> None:
    proc = tmp_path / "self-cgroup"
    proc.write_text("0::/\n")
    assert detect(tmp_path, proc).version is CgroupVersion.NONE


def test_pool_prepares_ahead_and_cleans_up(tmp_path: Path) -> None:
    layout = detect(tmp_path, fake_v1(tmp_path))
    pool = CgroupPool(layout, size=3)
    pool.start()
    try:
        parents = pool.parents
        assert len(list(parents[0].iterdir())) >= 3  # made before anyone asked
        group = pool.acquire()
        assert all(d.is_dir() for d in group.dirs)
        pool.release(group)
    finally:
        pool.close()
    assert not any(p.exists() for p in parents)
