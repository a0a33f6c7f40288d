"""The zygote: one long-lived interpreter per Python runtime that forks execution environments.

Why: starting an interpreter and importing the runtime client costs 15-25 ms; forking an interpreter that
already did it costs ~0.5 ms and shares its pages copy-on-write with every environment (the SOCK technique).

Protocol (SOCK_SEQPACKET on the fd named by `control_fd`, one JSON object per packet, descriptors by SCM_RIGHTS):

* platform -> zygote: ``{"op": "spawn", "id": n, "plan": {...}, "launch": {...}}`` with the log pipe's
  write end (and, for a private network namespace, a hand-off socket) attached;
  ``{"op": "prefork", "id": n, "plan": {...}}`` (a resident: joins a cgroup once, then forks environments
  into it ahead of need); ``{"op": "kill", "pid": p}``; ``{"op": "stop"}``.
* zygote -> platform: ``{"ready": true, "isolate": bool, "error": str|null}`` once at start;
  ``{"id": n, "pid": p}`` or ``{"id": n, "error": str}`` per spawn or prefork (a prefork's answer carries
  the resident's assignment channel); ``{"standby": resident, "pid": p}`` when a resident's next
  environment stands by; ``{"exit": p, "status": s}`` when an environment process ends (raw wait status).
* platform -> environment standing by, on its resident's assignment channel (not through us, who may be
  busy forking): the spawn message and descriptors, as above.

Invariants: the zygote is single-threaded (so fork is safe) and every environment is its direct child, so it
alone reaps them and a pid it reports is never reused before the platform hears of the exit. When the
platform's end closes, the zygote kills every environment and exits: no process outlives the platform.
"""

from __future__ import annotations

import array
import contextlib
import functools
import gc
import importlib
import importlib.machinery
import json
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

from . import confine, libc


class Zygote:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.sock = socket.socket(fileno=int(config["control_fd"]))
        self.children: set[int] = set()
        self.spares: dict[int, socket.socket] = {}  # resident pid -> its channel
        self.hosted: set[int] = set()  # environments forked by residents
        self.left = False  # True in forked children: the zygote's resources are closed
        self.merge_error: str | None = None  # why PR_SET_MEMORY_MERGE was refused, if it was
        self.isolate = False
        self.own_pidns = -1
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def prepare(self) -> str | None:
        error = None
        template = self.config.get("template")
        if template is not None:
            binds = list(template["binds"])
            # This interpreter, at /var/lang (as on Lambda) and at its own path (its rpath points there).
            prefix = os.path.realpath(sys.base_prefix)
            binds.append([prefix, "/var/lang"])
            if not prefix.startswith("/usr/"):
                binds.append([prefix, prefix])
            try:
                confine.build_template(template["root"], binds)
                self.own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
                self.isolate = True
            except OSError as exc:
                error = f"{exc}"
        for name in self.config.get("preload", ()):
            try:
                importlib.import_module(name)
            except Exception as exc:  # a missing optional module must not stop the zygote
                print(f"lamina zygote: cannot preload {name}: {exc}", file=sys.stderr)
        if self.config.get("memory_merge"):
            try:
                libc.prctl(libc.PR_SET_MEMORY_MERGE, 1)
            except OSError as exc:  # reported in the hello: /health must not claim merging that is off
                self.merge_error = str(exc)
        try:
            # In fallback mode a function's orphans come to us, so they are reaped rather than left behind.
            libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
        except OSError:
            pass
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # Objects that exist now are shared with every child; freezing them keeps the collector from
        # writing to their headers, which would copy their pages into each environment.
        gc.collect()
        gc.freeze()
        return error

    def send(self, message: dict[str, Any]) -> None:
        self.sock.send(json.dumps(message).encode())

    def serve(self) -> None:
        error = self.prepare()
        self.send(
            {
                "ready": True,
                "isolate": self.isolate,
                "error": error,
                "pid": os.getpid(),
                "version": "{}.{}".format(*sys.version_info[:2]),
                "full_version": sys.version.split()[0],
                "merge_error": self.merge_error,
            }
        )
        while True:
            try:
                watched = [self.sock.fileno(), self.wake_r, *(c.fileno() for c in self.spares.values())]
                readable, _, _ = select.select(watched, [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                try:
                    os.read(self.wake_r, 512)
                except BlockingIOError:
                    pass
                self.reap()
            for resident, channel in list(self.spares.items()):
                if channel.fileno() in readable:
                    self.from_resident(resident, channel)
            if self.sock.fileno() in readable:
                msg, fds = self.receive()
                if msg is None:
                    self.stop()
                    return
                op = msg.get("op")
                if op == "spawn":
                    self.spawn(msg, fds)
                elif op == "prefork":
                    self.prefork(msg)
                elif op == "kill":
                    pid = msg["pid"]
                    if pid in self.children or pid in self.hosted:
                        kill_tree(pid)
                elif op == "stop":
                    self.stop()
                    return

    def receive(self) -> tuple[dict[str, Any] | None, list[int]]:
        fds = array.array("i")
        data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(8 * fds.itemsize))
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        if not data:
            return None, list(fds)
        message: dict[str, Any] = json.loads(data)
        return message, list(fds)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.children:  # orphans re-parented to us (fallback mode) are reaped silently
                self.children.discard(pid)
                spare = self.spares.pop(pid, None)
                if spare is not None:
                    spare.close()
                self.send({"exit": pid, "status": status})

    def stop(self) -> None:
        for pid in list(self.children):
            kill_tree(pid)
        for pid in list(self.children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()

    def fork(self, isolate: bool) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = -1
        try:
            if isolate:
                # The next child becomes pid 1 of a new pid namespace; afterwards our own children must go
                # back to our namespace, hence the setns (in the parent only: the child cannot go back).
                libc.unshare(libc.CLONE_NEWPID)
            pid = os.fork()
        finally:
            if isolate and pid != 0:
                libc.setns(self.own_pidns, libc.CLONE_NEWPID)
        return pid

    def spawn(self, msg: dict[str, Any], fds: list[int]) -> None:
        plan = msg["plan"]
        plan["isolate"] = bool(plan.get("isolate")) and self.isolate
        try:
            pid = self.fork(plan["isolate"])
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send({"id": msg["id"], "error": str(exc)})
            return
        if pid == 0:
            self.child(lambda: self.become_environment(msg, fds))
        for fd in fds:
            os.close(fd)
        self.children.add(pid)
        self.send({"id": msg["id"], "pid": pid})

    def prefork(self, msg: dict[str, Any]) -> None:
        """Fork a spare environment: it does the slow, function-independent part of confinement now
        (cgroup attach, namespaces) and waits for a `spawn` to finish the rest."""
        plan = msg["plan"]
        plan["isolate"] = bool(plan.get("isolate")) and self.isolate
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Assignments go from the platform straight to the environment standing by (no hop through us,
        # who may be busy forking): the platform gets one end, the resident the other.
        platform_end, resident_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # The resident stays in our pid namespace, so the pids it reports mean the same to the platform;
            # each environment it forks gets a fresh one.
            pid = self.fork(False)
        except OSError as exc:
            for sock in (ours, theirs, platform_end, resident_end):
                sock.close()
            self.send({"id": msg["id"], "error": str(exc)})
            return
        if pid == 0:
            ours.close()
            platform_end.close()
            self.child(lambda: self.become_spare(plan, theirs, resident_end))
        theirs.close()
        resident_end.close()
        self.spares[pid] = ours
        self.children.add(pid)
        reply = json.dumps({"id": msg["id"], "pid": pid}).encode()
        try:
            self.sock.sendmsg(
                [reply], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [platform_end.fileno()]))]
            )
        finally:
            platform_end.close()

    def from_resident(self, resident: int, channel: socket.socket) -> None:
        try:
            data = channel.recv(65536)
        except OSError:
            data = b""
        if not data:
            channel.close()
            self.spares.pop(resident, None)
            return
        msg = json.loads(data)
        if "standby" in msg:
            self.hosted.add(msg["standby"])
            self.send({"standby": resident, "pid": msg["standby"]})
        elif "exit" in msg:
            self.hosted.discard(msg["exit"])
            self.send({"exit": msg["exit"], "status": msg["status"]})

    def child(self, body: Callable[[], None]) -> None:
        code = 127
        try:
            self.leave_zygote()
            body()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            try:
                os.write(2, ("Lamina sandbox: " + traceback.format_exc()).encode())
            except OSError:
                pass
        os._exit(code)

    def leave_zygote(self) -> None:
        if self.left:
            return
        self.left = True
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.sock.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        if self.own_pidns >= 0:
            os.close(self.own_pidns)
            self.own_pidns = -1
        for channel in self.spares.values():
            channel.close()
        self.spares.clear()

    def become_spare(self, plan: dict[str, Any], channel: socket.socket, assignments: socket.socket) -> None:
        """A resident: join the cgroup once (the slow part), then fork environments into it, one at a time,
        for as long as the zygote keeps us. Environments are born in the cgroup, so they never attach.

        Each environment is forked *ahead* of its cold start (a fork costs 1.5-2.5 ms here): it enters its
        namespaces, mounts and pivots, and stands by, reading its assignment from the platform's channel
        itself. The platform learns its pid from our ``standby`` message (relayed by the zygote); meanwhile
        we only wait for the environment to end, report it, and prepare the next one."""
        for procs in plan.get("cgroup_procs", ()):
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        plan = {k: v for k, v in plan.items() if k != "cgroup_procs"}
        self.own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if plan["isolate"] else -1
        while True:
            try:
                pid = self.fork(plan["isolate"])
            except OSError as exc:
                os.write(2, f"Lamina resident: cannot fork an environment: {exc}\n".encode())
                os._exit(1)  # the zygote fails any spawn waiting for us; the platform starts from scratch
            if pid == 0:
                channel.close()
                self.child(functools.partial(self.stand_by, plan, assignments))
            try:
                channel.send(json.dumps({"standby": pid}).encode())
            except OSError:
                kill_tree(pid)
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    status = -1
                    break
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == STANDBY_FAILED:
                os._exit(1)  # it would fail again: let the platform know this way of starting does not work
            try:
                channel.send(json.dumps({"exit": pid, "status": status}).encode())
            except OSError:
                os._exit(0)
            # The zygote or the platform retired us (their end is closed): no next environment.
            for sock in (channel, assignments):
                try:
                    if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        os._exit(0)
                except BlockingIOError:
                    pass
                except OSError:
                    os._exit(0)

    def stand_by(self, plan: dict[str, Any], channel: socket.socket) -> None:
        """An environment forked ahead of time: pid 1 of its pid namespace, in its resident's cgroup. Do the
        function-independent confinement now, then wait for the assignment (a spawn message)."""
        if self.own_pidns >= 0:
            os.close(self.own_pidns)
            self.own_pidns = -1
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # the OOM killer must pick the environment, never its resident
        with contextlib.suppress(OSError):
            libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)  # a retired resident takes us along
        try:
            confine.prepare(plan)
            confine.stage(plan)
        except OSError as exc:
            os.write(2, f"Lamina resident: cannot prepare an environment: {exc}\n".encode())
            os._exit(STANDBY_FAILED)
        rehearse(plan["root"] if plan["isolate"] else "/nonexistent")
        forget_platform_modules()
        fds = array.array("i")
        data, ancdata, _flags, _addr = channel.recvmsg(1 << 20, socket.CMSG_SPACE(8 * fds.itemsize))
        if not data:
            os._exit(0)  # the resident was retired before we were needed
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        channel.close()
        msg = json.loads(data)
        msg["plan"]["prepared"] = True
        msg["plan"]["staged"] = plan["isolate"]
        self.become_environment(msg, list(fds))

    def become_environment(self, msg: dict[str, Any], fds: list[int]) -> None:
        """`fds`: the log pipe, then the hand-off socket if ``plan["netns"]``, then the detached mounts named
        by ``plan["mount_fds"]`` (for an environment forked ahead of time)."""
        log_fd = fds[0]
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        plan = msg["plan"]
        launch = msg["launch"]
        mounts = {name: fds[index] for name, index in plan.get("mount_fds", {}).items() if index < len(fds)}
        handoff = fds[1] if plan.get("netns") and len(fds) > 1 else -1
        channel_at = launch.get("channel_fd")
        if channel_at is not None:
            launch["channel_fd"] = fds[channel_at] if channel_at < len(fds) else None
        if not plan.get("prepared"):
            confine.prepare(plan)
        confine.finish(plan, mounts)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        if handoff >= 0:
            # The Runtime API, and (for AWS_ENDPOINT_URL) the platform's own API at its port, as listeners
            # in this network namespace that the platform serves.
            listeners = [confine.runtime_api_socket(int(plan["api_port"]))]
            if plan.get("endpoint_port"):
                listeners.append(confine.runtime_api_socket(int(plan["endpoint_port"])))
            hand = socket.socket(fileno=handoff)
            passed = array.array("i", [listener.fileno() for listener in listeners])
            hand.sendmsg([b"L"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, passed)])
            hand.close()
            for listener in listeners:
                listener.close()
        run(launch)


STANDBY_FAILED = 121  # exit code of an environment forked ahead of time that could not confine itself


def forget_platform_modules() -> None:
    """Functions must not be able to import the sandbox's own modules (their code keeps working: it holds
    its globals)."""
    for name in [m for m in sys.modules if m == "child" or m.startswith("child.")]:
        del sys.modules[name]


def rehearse(root: str) -> None:
    """Walk the code paths a cold start takes, with throwaway data, while standing by.

    Each page of the zygote's memory that a cold start writes to (an object's refcount, an allocator
    pool, the environment block) costs a copy-on-write fault, ~2-4 us on this VM; a cold start took ~560.
    Taking most of them now, before the assignment, takes them off the critical path. Nothing here leaves
    state behind: variables are removed, objects dropped, caches restored."""
    env = {f"LAMINA_REHEARSAL_{i}": "x" * 48 for i in range(40)}
    sample = {"op": "spawn", "id": 1, "plan": {"root": root, "rlimits": {"NOFILE": 1024}}, "launch": {"env": env}}
    json.loads(json.dumps(sample))
    os.environ.update(env)
    for name in env:
        del os.environ[name]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    compile("def handler(event, context):\n    return None\n", "<rehearsal>", "exec")
    where = os.path.join(root, "var", "task")
    cached = dict(sys.path_importer_cache)
    with contextlib.suppress(Exception):
        importlib.machinery.PathFinder.find_spec("lamina_rehearsal_absent", [where])
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(cached)
    runtime = sys.modules.get("lamina_runtime.bootstrap")
    if runtime is not None and hasattr(runtime, "rehearse"):
        runtime.rehearse()


def kill_tree(pid: int) -> None:
    """Kill an environment: its pid-namespace init (which takes the namespace with it) or, in fallback
    mode, its session's process group."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run(launch: dict[str, Any]) -> None:
    """Become the runtime: exec a program, or run Lamina's Python runtime client in this interpreter."""
    env: dict[str, str] = launch["env"]
    if launch["mode"] == "exec":
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.closerange(3, 65536)
        argv: list[str] = launch["argv"]
        try:
            os.execve(argv[0], argv, env)
        except OSError as exc:
            os.write(2, f"Lamina sandbox: cannot execute {argv[0]}: {exc.strerror}\n".encode())
            os._exit(127)
    channel = launch.get("channel_fd")
    if channel is not None and channel != 3:
        os.dup2(channel, 3)
        channel = 3
    os.closerange(3 if channel is None else 4, 65536)
    os.environ.clear()
    os.environ.update(env)
    import time

    time.tzset()
    version = "{}.{}".format(*sys.version_info[:2])
    head = [p.replace("{version}", version) for p in launch["sys_path"]]
    # As on AWS: the code, the layers, then the runtime's directory with its boto3 (so the function's own copy
    # wins); the standard library stays ahead of the runtime's directory, which holds no module of its name.
    runtime_path = ["/var/runtime"] if launch.get("isolated") else launch.get("runtime_path", [launch["runtime_dir"]])
    sys.path[:] = head + BASE_PATH + runtime_path
    forget_platform_modules()
    sys.argv = ["/var/runtime/bootstrap", env.get("_HANDLER", "")]
    from lamina_runtime import bootstrap  # type: ignore[import-not-found,unused-ignore]

    sys.exit(bootstrap.main(env.get("_HANDLER", ""), channel))


BASE_PATH: list[str] = []


def main() -> None:
    config = json.loads(sys.argv[1])
    if config.get("cpus"):  # not the CPU the platform's event loop may be pinned to while it started us
        os.sched_setaffinity(0, config["cpus"])
    BASE_PATH.extend(p for p in sys.path if p and not p.startswith(os.path.dirname(__file__).rsplit("/", 1)[0]))
    sys.path[:0] = config.get("path", [])
    Zygote(config).serve()
