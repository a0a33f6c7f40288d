"""The few Linux system calls Python 3.11 does not wrap (unshare, mount, pivot_root, setns, prctl), via ctypes.

Runs inside the zygote and its children, so it imports nothing but the standard library. Every call raises
`OSError` with the real errno, so callers can tell "not allowed here" (EPERM) from a bug.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_SET_MEMORY_MERGE = 67  # Linux 6.4+: every anonymous page of this process and its forks may be merged by KSM

_SYS_PIVOT_ROOT = 155  # x86_64
_SYS_PIVOT_ROOT_AARCH64 = 41

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def sched_getcpu() -> int:
    """The CPU the calling thread runs on now (a vDSO call); -1 where the C library cannot tell."""
    try:
        cpu: int = _libc.sched_getcpu()
    except AttributeError:
        return -1
    return cpu


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(target.encode(), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _SYS_PIVOT_ROOT if os.uname().machine == "x86_64" else _SYS_PIVOT_ROOT_AARCH64
    _check(_libc.syscall(number, new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


# The new mount API (Linux 5.2+): lets the platform prepare an environment's code and layer mounts as
# detached mounts (descriptors), so an environment that already pivoted into its private root can attach
# them without seeing any host path.
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_FSOPEN, _SYS_FSCONFIG, _SYS_FSMOUNT = 428, 429, 430, 431, 432
OPEN_TREE_CLONE = 1
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
FSOPEN_CLOEXEC = 1
FSMOUNT_CLOEXEC = 1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4


def _fd(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def open_tree(path: str) -> int:
    """A detached copy of the mount tree at `path` (close-on-exec descriptor)."""
    flags = OPEN_TREE_CLONE | AT_RECURSIVE | os.O_CLOEXEC
    return _fd(_libc.syscall(_SYS_OPEN_TREE, AT_FDCWD, path.encode(), flags), f"open_tree {path}")


def overlay_tree(lowerdir: str) -> int:
    """A detached read-only overlay mount of `lowerdir` (colon-separated, topmost first)."""
    fs = _fd(_libc.syscall(_SYS_FSOPEN, b"overlay", FSOPEN_CLOEXEC), "fsopen overlay")
    try:
        _fd(_libc.syscall(_SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, b"source", b"lamina-layers", 0), "fsconfig")
        _fd(_libc.syscall(_SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, b"lowerdir", lowerdir.encode(), 0), "fsconfig")
        _fd(_libc.syscall(_SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0), "fsconfig create")
        attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
        return _fd(_libc.syscall(_SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, attrs), "fsmount overlay")
    finally:
        os.close(fs)


def move_mount(fd: int, target: str) -> None:
    """Attach the detached mount `fd` at `target`."""
    result = _libc.syscall(_SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH)
    _check(result, f"move_mount on {target}")
