"""Enter an execution environment's sandbox, from inside the freshly forked environment process.

Two steps, split by cost:

* `build_template` runs once per zygote, in the zygote's own private mount namespace: a read-only tmpfs
  root holding read-only binds of the host's system directories, the interpreter, Lamina's runtimes
  (`/var/runtime`) and empty mount points for everything per-environment. Building it once keeps the
  per-environment work to five mounts.
* `enter` runs in each environment process (pid 1 of its own pid namespace, forked by the zygote) before any
  function code: join the cgroup, unshare mount/ipc/uts (and optionally net), mount `/tmp`, `/var/task`,
  `/opt`, `/proc`, pivot into the template, drop to the environment's unprivileged uid.

Invariant: once `enter` returns, the process runs as a non-root uid with no capabilities and
`no_new_privs`, sees only the template plus its own code, layers and `/tmp`, and cannot write anywhere but
`/tmp`. In fallback mode (`plan["isolate"]` false) only rlimits and a new session are applied.

The plan is plain JSON built by the platform (`lamina.sandbox.plan`); this module only obeys it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import socket
import struct
from typing import Any

from . import libc

_RO_BIND = libc.MS_BIND | libc.MS_REC
_RO_REMOUNT = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV
_DEVICES = ("null", "zero", "full", "random", "urandom")
_MOUNT_POINTS = ("var/task", "var/runtime", "var/lang", "opt", "tmp", "proc", "dev", "etc")

Plan = dict[str, Any]


def build_template(root: str, binds: list[list[str]]) -> None:
    """Make `root` (an existing empty directory) the read-only template root of this mount namespace.

    `binds` are ``[host_path, path_inside]`` pairs; host symlinks such as ``/bin -> usr/bin`` are recreated
    as symlinks so the template mirrors the host's merged-/usr layout.
    """
    libc.unshare(libc.CLONE_NEWNS)
    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE)
    libc.mount("lamina-root", root, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, "mode=0755,size=4m")
    for sub in _MOUNT_POINTS:
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for host, inside in binds:
        target = os.path.join(root, inside.lstrip("/"))
        if os.path.islink(host) and os.path.dirname(inside.rstrip("/")) == "":
            with contextlib.suppress(FileExistsError):
                os.symlink(os.readlink(host), target)
            continue
        if not os.path.exists(host):
            continue
        if os.path.isdir(host):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "a"):
                pass
        libc.mount(host, target, None, _RO_BIND)
        libc.mount("none", target, None, _RO_REMOUNT)
    dev = os.path.join(root, "dev")
    for name in _DEVICES:
        node = os.path.join(dev, name)
        with open(node, "a"):
            pass
        libc.mount("/dev/" + name, node, None, libc.MS_BIND)
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(link, os.path.join(dev, name))
    os.symlink("/proc/self/fd/1", os.path.join(dev, "stdout"))
    os.symlink("/proc/self/fd/2", os.path.join(dev, "stderr"))
    libc.mount("none", root, None, libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV)


def enter(plan: Plan) -> None:
    """Confine the calling process according to `plan` (see the module docstring)."""
    prepare(plan)
    finish(plan)


def prepare(plan: Plan) -> None:
    """The function-independent, slow half: join the cgroup (a cgroup v1 attach waits for an RCU grace
    period, 10-15 ms here) and unshare namespaces. Spare environments do this ahead of time."""
    for procs in plan.get("cgroup_procs", ()):
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    if plan["isolate"]:
        flags = libc.CLONE_NEWNS | libc.CLONE_NEWIPC | libc.CLONE_NEWUTS
        if plan.get("netns"):
            flags |= libc.CLONE_NEWNET
        libc.unshare(flags)
        if plan.get("netns"):
            _loopback_up()


STAGED_TMP_MB = 512  # Lambda's default EphemeralStorage: /tmp is remounted only for other sizes


def stage(plan: Plan) -> None:
    """What an environment forked ahead of time does before it knows its function: mount /proc (it is
    already pid 1 of its pid namespace) and a root-owned /tmp of the default size, set the host name, and
    pivot into the template root, dropping the host's mounts (the detach waits for an expedited RCU grace
    period: 0.2-2 ms here). `finish` with ``plan["staged"]`` then attaches the code and layers from the
    detached mounts the platform sends (``plan["mount_fds"]``) and gives /tmp its owner and size."""
    if not plan["isolate"]:
        return
    root = plan["root"]
    tmp_options = f"size={STAGED_TMP_MB}m,mode=1777"
    libc.mount("tmpfs", root + "/tmp", "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, tmp_options)
    libc.mount("proc", root + "/proc", "proc", libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)
    libc.sethostname(plan.get("hostname", "localhost"))
    os.chdir(root)
    libc.pivot_root(".", ".")
    libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/")


def _attach_staged(plan: Plan, fds: dict[str, int]) -> None:
    """`_mount_root` for an environment that `stage` already pivoted: no host path is visible any more."""
    flags_tmp = libc.MS_NOSUID | libc.MS_NODEV
    if plan["tmp_mb"] != STAGED_TMP_MB:
        libc.mount("tmpfs", "/tmp", None, flags_tmp | libc.MS_REMOUNT, f"size={plan['tmp_mb']}m")
    os.chown("/tmp", plan.get("uid", 0), plan.get("gid", 0))
    libc.move_mount(fds["task"], "/var/task")
    libc.mount("none", "/var/task", None, _RO_REMOUNT)
    if "opt" in fds:
        libc.move_mount(fds["opt"], "/opt")
        if len(plan.get("layers", [])) == 1:
            libc.mount("none", "/opt", None, _RO_REMOUNT)  # an overlay is read-only from birth
    for fd in fds.values():
        os.close(fd)
    if "uid" in plan:
        _name_user("/tmp", "/etc", plan["uid"], plan["gid"])
    os.chdir("/var/task")


def finish(plan: Plan, mount_fds: dict[str, int] | None = None) -> None:
    """The function-specific, fast half: mounts, private root, rlimits, unprivileged uid."""
    if plan["isolate"] and plan.get("staged"):
        if mount_fds is None or "task" not in mount_fds:
            raise OSError("a staged environment needs its code as a detached mount")
        _attach_staged(plan, mount_fds)
    elif plan["isolate"]:
        _mount_root(plan)
    else:
        os.setsid()
        os.chdir(plan["task_dir"])
    _apply_rlimits(plan.get("rlimits", {}))
    uid = plan.get("uid")
    if uid is not None:
        gid = plan["gid"]
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    with contextlib.suppress(OSError):
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)


def _mount_root(plan: Plan) -> None:
    root = plan["root"]
    uid, gid = plan.get("uid", 0), plan.get("gid", 0)
    flags_tmp = libc.MS_NOSUID | libc.MS_NODEV
    tmp_options = f"size={plan['tmp_mb']}m,mode=1777,uid={uid},gid={gid}"
    libc.mount("tmpfs", root + "/tmp", "tmpfs", flags_tmp, tmp_options)
    task = root + "/var/task"
    libc.mount(plan["task_dir"], task, None, _RO_BIND)
    libc.mount("none", task, None, _RO_REMOUNT)
    layers: list[str] = plan.get("layers", [])
    opt = root + "/opt"
    if len(layers) == 1:
        libc.mount(layers[0], opt, None, _RO_BIND)
        libc.mount("none", opt, None, _RO_REMOUNT)
    elif layers:
        # overlayfs stacks the leftmost lowerdir on top, and later layers must override earlier ones.
        lower = ":".join(reversed(layers))
        ro = libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV
        libc.mount("lamina-layers", opt, "overlay", ro, f"lowerdir={lower}")
    libc.mount("proc", root + "/proc", "proc", libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)
    if "uid" in plan:
        _name_user(root + "/tmp", root + "/etc", uid, gid)
    os.chdir(root)
    libc.pivot_root(".", ".")
    libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/var/task")
    libc.sethostname(plan.get("hostname", "localhost"))


SANDBOX_USER = "sbx_user1051"  # the user every Lambda function runs as


def _name_user(tmp: str, etc: str, uid: int, gid: int) -> None:
    """Give the environment's uid a name, as on Lambda: an /etc/passwd and /etc/group of the sandbox's own
    (root, the sandbox user, nobody), bound over the host's. The files are written to the environment's
    fresh /tmp, bound, then unlinked: the binds keep them, and /tmp shows nothing (a few hundred bytes of
    its size go to them). They belong to root and are read-only to the function."""
    files = {
        "passwd": (
            "root:x:0:0:root:/root:/bin/bash\n"
            f"{SANDBOX_USER}:x:{uid}:{gid}::/home/{SANDBOX_USER}:/sbin/nologin\n"
            "nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin\n"
        ),
        "group": f"root:x:0:\n{SANDBOX_USER}:x:{gid}:\nnobody:x:65534:\n",
    }
    for name, text in files.items():
        target = os.path.join(etc, name)
        if not os.path.isfile(target):
            continue
        staged = os.path.join(tmp, f".lamina-{name}")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
        try:
            libc.mount(staged, target, None, libc.MS_BIND)
        finally:
            os.unlink(staged)


def _loopback_up() -> None:
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), siocgifflags, request))[1]
        fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def _apply_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, "RLIMIT_" + name)
        _soft, hard = resource.getrlimit(which)
        new_hard = value if hard == resource.RLIM_INFINITY or value < hard else hard
        resource.setrlimit(which, (min(value, new_hard), new_hard))


def runtime_api_socket(port: int) -> socket.socket:
    """In a private network namespace the platform cannot bind for the environment: the environment binds
    its own Runtime API listener and hands the descriptor to the platform."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock
