"""The platform's side of a zygote (see `lamina.sandbox.child.zygote` for the zygote itself).

A `ZygoteProcess` starts one interpreter with `-I -S` (no site-packages: nothing of the platform is
importable by functions), talks to it over a SOCK_SEQPACKET pair from the event loop, and turns its
messages into futures (spawn replies) and exit callbacks (environment ends).

Invariant: an exit is delivered exactly once per spawned pid, even when it arrives before anyone watches
it, and every watched pid gets an exit (status -1) if the zygote itself dies.
"""

from __future__ import annotations

import array
import asyncio
import json
import logging
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SANDBOX_DIR = Path(__file__).resolve().parent
RUNTIMES_DIR = SANDBOX_DIR / "runtimes"

ExitCallback = Callable[[int], None]

# What every Python environment is likely to import: paid once in the zygote, shared by every fork.
PRELOAD = (
    "lamina_runtime.bootstrap",
    "json",
    "logging",
    "decimal",
    "datetime",
    "uuid",
    "base64",
    "hashlib",
    "re",
    "collections",
    "functools",
    "typing",
    "dataclasses",
    "enum",
    "urllib.parse",
    "email.utils",
    "traceback",
    "socket",
    "threading",
    # socket.getaddrinfo encodes host names with the idna codec, which imports stringprep and
    # unicodedata: ~3 ms per cold start when left to the environment (seen with strace).
    "encodings.idna",
)


class ZygoteDied(Exception):
    pass


class ZygoteProcess:
    def __init__(
        self,
        python: str,
        template: dict[str, Any] | None,
        preload: bool,
        memory_merge: bool = False,
        cpus: set[int] | None = None,
    ) -> None:
        self.python = python
        # The CPUs the zygote and every environment it forks may use: the platform's own, whatever the
        # thread starting it was pinned to at that moment (sandbox/placement.py).
        self.cpus = cpus
        self.template = template
        self.preload = preload
        self.memory_merge = memory_merge
        self.isolate = False
        self.error: str | None = None
        self.pid = 0
        self.version = ""
        self.full_version = ""
        self.merge_error: str | None = None  # the zygote could not opt in to same-page merging
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._watchers: dict[int, ExitCallback] = {}
        self._early_exits: dict[int, int] = {}
        self._unwatched: set[int] = set()  # spawned, exit not yet watched: only these may exit "early"
        self._next_id = 0
        self._received: dict[int, list[int]] = {}  # request id -> descriptors that came with its answer
        self._standby_callbacks: dict[int, Callable[[int], None]] = {}  # resident pid -> on_standby(pid)
        self._early_standby: dict[int, int] = {}  # resident pid -> standby pid announced before registration
        self.alive = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "control_fd": theirs.fileno(),
            "path": [str(SANDBOX_DIR), str(RUNTIMES_DIR)],
            "template": self.template,
            "preload": list(PRELOAD) if self.preload else [],
            "memory_merge": self.memory_merge,
            "cpus": sorted(self.cpus) if self.cpus else None,
        }
        code = "import sys; sys.path.insert(0, sys.argv[2]); from child import zygote; zygote.main()"
        self._proc = subprocess.Popen(
            [self.python, "-I", "-S", "-c", code, json.dumps(config), str(SANDBOX_DIR)],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            close_fds=True,
            # Forked environments inherit this process's memory, including its initial environment block
            # (/proc/self/environ): it must hold nothing of the platform's.
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._ready = self._loop.create_future()
        self.alive = True
        self._loop.add_reader(ours.fileno(), self._on_readable)
        hello = await asyncio.wait_for(self._ready, 30)
        self.isolate = bool(hello.get("isolate"))
        self.error = hello.get("error")
        self.pid = int(hello.get("pid", self._proc.pid))
        self.version = str(hello.get("version", ""))
        self.full_version = str(hello.get("full_version", ""))
        self.merge_error = hello.get("merge_error")

    def _on_readable(self) -> None:
        assert self._sock is not None
        while True:
            fds = array.array("i")
            try:
                data, ancdata, _flags, _addr = self._sock.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
            except BlockingIOError:
                return
            except OSError:
                data, ancdata = b"", []
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            if not data:
                for fd in fds:
                    os.close(fd)
                self._on_death()
                return
            msg = json.loads(data)
            if fds:
                if "id" in msg and int(msg["id"]) in self._pending:
                    self._received[int(msg["id"])] = list(fds)
                else:
                    for fd in fds:
                        os.close(fd)
            self._dispatch(msg)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "standby" in msg:
            # A resident forked the environment it will host next; it may exit before anyone watches it.
            pid = int(msg["pid"])
            self._unwatched.add(pid)
            on_standby = self._standby_callbacks.get(int(msg["standby"]))
            if on_standby is not None:
                on_standby(pid)
            else:  # read in the same batch as the prefork answer, before `prefork` registered its callback
                self._early_standby[int(msg["standby"])] = pid
        elif "exit" in msg:
            pid, status = int(msg["exit"]), int(msg["status"])
            callback = self._watchers.pop(pid, None)
            if callback is not None:
                callback(status)
            elif pid in self._unwatched:
                self._early_exits[pid] = status  # ended before anyone watched it: keep for `watch`
        elif "id" in msg:
            fut = self._pending.pop(int(msg["id"]), None)
            if fut is not None and not fut.done():
                if "pid" in msg:
                    self._unwatched.add(int(msg["pid"]))
                    fut.set_result(int(msg["pid"]))
                else:
                    fut.set_exception(OSError(msg.get("error", "spawn failed")))
        elif msg.get("ready") and self._ready is not None and not self._ready.done():
            self._ready.set_result(msg)

    def _on_death(self) -> None:
        if not self.alive:
            return
        self.alive = False
        if self._loop is not None and self._sock is not None:
            self._loop.remove_reader(self._sock.fileno())
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ZygoteDied("the zygote exited"))
        self._pending.clear()
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ZygoteDied("the zygote exited during start-up"))
        watchers, self._watchers = self._watchers, {}
        for callback in watchers.values():
            callback(-1)

    def _send(self, msg: dict[str, Any], fds: list[int] | None = None) -> None:
        if not self.alive or self._sock is None:
            raise ZygoteDied("the zygote is not running")
        data = json.dumps(msg).encode()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        # A seqpacket send of a small message to a live peer does not block; the socket buffer holds many.
        self._sock.setblocking(True)
        try:
            self._sock.sendmsg([data], ancillary)
        finally:
            self._sock.setblocking(False)

    async def spawn(self, plan: dict[str, Any], launch: dict[str, Any], fds: list[int]) -> int:
        return await self._request({"op": "spawn", "plan": plan, "launch": launch}, fds)

    async def prefork(self, plan: dict[str, Any], on_standby: Callable[[int], None]) -> tuple[int, socket.socket]:
        """Start a resident; returns its pid and the channel that takes assignments for the environments it
        forks ahead of time. `on_standby(pid)` is called each time such an environment is ready."""
        assert self._loop is not None
        self._next_id += 1
        request = self._next_id
        fut: asyncio.Future[int] = self._loop.create_future()
        self._pending[request] = fut
        self._send({"op": "prefork", "plan": plan, "id": request})
        try:
            pid = await fut
        finally:
            fds = self._received.pop(request, [])
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            self.kill(pid)
            raise OSError("the zygote sent no assignment channel")
        self._standby_callbacks[pid] = on_standby
        early = self._early_standby.pop(pid, None)
        if early is not None:
            on_standby(early)
        return pid, socket.socket(fileno=fds[0])

    def forget_resident(self, pid: int) -> None:
        self._standby_callbacks.pop(pid, None)
        self._early_standby.pop(pid, None)

    def discard_exit(self, pid: int) -> None:
        """An environment nobody will watch (a resident's standby that was never assigned)."""
        self._unwatched.discard(pid)
        self._early_exits.pop(pid, None)

    async def _request(self, msg: dict[str, Any], fds: list[int]) -> int:
        assert self._loop is not None
        self._next_id += 1
        fut: asyncio.Future[int] = self._loop.create_future()
        self._pending[self._next_id] = fut
        msg["id"] = self._next_id
        self._send(msg, fds)
        return await fut

    def watch(self, pid: int, callback: ExitCallback) -> None:
        """Call `callback(status)` once `pid` exits; a later watch of the same pid replaces this one."""
        self._unwatched.discard(pid)
        status = self._early_exits.pop(pid, None)
        if status is not None:
            callback(status)
        elif not self.alive:
            callback(-1)
        else:
            self._watchers[pid] = callback

    def kill(self, pid: int) -> None:
        if self.alive:
            try:
                self._send({"op": "kill", "pid": pid})
            except (OSError, ZygoteDied):
                pass

    async def close(self) -> None:
        if self._proc is None:
            return
        if self.alive:
            try:
                self._send({"op": "stop"})
            except (OSError, ZygoteDied):
                pass
        proc = self._proc
        for _ in range(500):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.01)
        else:
            proc.kill()
            proc.wait()
        self._on_death()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._proc = None


def describe_status(status: int) -> str:
    """Lambda's wording for how a runtime process ended ("exit status 1", "signal: killed")."""
    if status < 0:
        return "signal: killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        names = {9: "killed", 15: "terminated", 11: "segmentation fault", 6: "aborted", 7: "bus error"}
        return f"signal: {names.get(sig, str(sig))}"
    return f"exit status {os.WEXITSTATUS(status)}"
