"""One execution environment: a sandboxed process tree running one function version, one request at a time.

Lifecycle (every transition goes through `_move`, checked against `TRANSITIONS`):

    STARTING --runtime called `next`--> IDLE --invoke--> BUSY --answered--> IDLE
    STARTING|IDLE|BUSY --stop() (timeout, crash, retire, reap, close)--> STOPPING --process gone--> DEAD
    any --process exited on its own--> DEAD

An environment is only ever handed an invocation in IDLE. After a timeout or a runtime exit it is never
reused (Lambda resets its environment; we start a new one, which is as cheap). Its resources (cgroup, uid
slot, Runtime API socket, log pipe) are released exactly once, when it becomes DEAD.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal, overload

from ..clock import Clock
from ..logs import report
from ..logs.capture import InvocationLog, OutputCapture
from ..logs.platform_lines import PlatformLines
from ..logs.store import LogStore
from ..types import Invocation, InvocationResult, TracedInvocation, VersionSpec
from . import launch
from .cgroups import Cgroup, CgroupPool
from .child import libc
from .isolation import Isolation
from .placement import Placement
from .role_credentials import CredentialIssuer, LocalIssuer
from .runtime_api import ReplyKind, RuntimeApi, RuntimeReply, resolver
from .settings import SandboxSettings
from .spares import Spare
from .timer import Timer
from .zygote import ZygoteProcess, describe_status

log = logging.getLogger(__name__)


class EnvironmentState(Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    STOPPING = "stopping"
    DEAD = "dead"


TRANSITIONS: dict[EnvironmentState, frozenset[EnvironmentState]] = {
    EnvironmentState.STARTING: frozenset({EnvironmentState.IDLE, EnvironmentState.STOPPING, EnvironmentState.DEAD}),
    EnvironmentState.IDLE: frozenset({EnvironmentState.BUSY, EnvironmentState.STOPPING, EnvironmentState.DEAD}),
    EnvironmentState.BUSY: frozenset({EnvironmentState.IDLE, EnvironmentState.STOPPING, EnvironmentState.DEAD}),
    EnvironmentState.STOPPING: frozenset({EnvironmentState.DEAD}),
    EnvironmentState.DEAD: frozenset(),
}


ServeInside = Callable[[socket.socket], Awaitable[asyncio.Server]]


@dataclass(frozen=True)
class ApiAddress:
    """Where a function reaches this server's API (its AWS_ENDPOINT_URL): `url` ("" until the server
    listens) on the host's network; inside a private network namespace, 127.0.0.1:`port` served by
    `serve_inside` on a listener the environment binds there."""

    url: str = ""
    port: int = 0
    serve_inside: ServeInside | None = None
    xray_daemon: str = ""  # host:port of the X-Ray daemon's UDP endpoint (services/xray/daemon.py), "" if none


@dataclass
class SandboxContext:
    """What every environment of one executor shares."""

    settings: SandboxSettings
    clock: Clock
    store: LogStore
    isolation: Isolation
    cgroups: CgroupPool | None
    template_root: Path
    runtime_dir: Path
    release_uid: Callable[[int], None]
    take_spare: Callable[[ZygoteProcess], Spare | None] = lambda _zygote: None
    node_version: str = ""
    placement: Placement = field(default_factory=lambda: Placement(False))
    python_libraries: Path | None = None  # boto3 & co. without isolation (runtime_libraries.link_farm)
    credentials: CredentialIssuer = field(default_factory=LocalIssuer)
    api: ApiAddress = field(default_factory=ApiAddress)
    # Told of every recorded invocation (spec, invoked ARN, duration ms, init ms or None, function error?):
    # the AWS/Lambda metrics (services/cloudwatch/lambda_metrics.py). Must be cheap: it runs on the invoke path.
    on_invoked: InvokedHook | None = None
    # Told of every sampled invocation (its trace id says Sampled=1): Lambda's X-Ray segments
    # (services/xray/recorder.py). Must be cheap too: it only queues the record.
    on_traced: TracedHook | None = None


InvokedHook = Callable[[VersionSpec, str, float, "float | None", bool], None]
TracedHook = Callable[[TracedInvocation], None]


@dataclass(frozen=True)
class InitFailure:
    """Why an environment could not start: the runtime's own init error document (`body`), or a platform
    failure described by `message`, which the invocation's error document prefixes with its request id."""

    error_type: str
    body: bytes | None = None
    message: str = ""
    type_first: bool = True


def error_document(error_type: str, message: str, type_first: bool = True) -> bytes:
    doc = {"errorType": error_type, "errorMessage": message} if type_first else {
        "errorMessage": message, "errorType": error_type,
    }  # fmt: skip
    return json.dumps(doc).encode()


class Outcome:
    """One invocation from `begin` to `record`: what it returns, and what its REPORT line says."""

    __slots__ = ("duration_ms", "error_type", "function_error", "init_ms", "invocation", "log", "payload",
                 "started", "status", "timer")  # fmt: skip

    def __init__(self, invocation: Invocation, log: InvocationLog, init_ms: float | None) -> None:
        self.invocation = invocation
        self.log = log
        self.init_ms = init_ms
        self.started = 0.0
        self.timer: Timer | None = None
        self.duration_ms = 0.0
        self.payload = b""
        self.function_error: str | None = None
        self.status: str | None = None  # REPORT's Status: "timeout" or "error" when the runtime failed
        self.error_type: str | None = None


class Environment:
    def __init__(
        self,
        ctx: SandboxContext,
        spec: VersionSpec,
        choice: launch.RuntimeChoice,
        zygote: ZygoteProcess,
        uid: int | None,
        env_id: str,
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.choice = choice
        self.zygote = zygote
        self.uid = uid
        self.id = env_id
        self.state = EnvironmentState.STARTING
        self.retired = False
        # Provisioned concurrency: initialised ahead of any request, never reaped, and its first invoke
        # is not a cold start (no Init Duration in its REPORT line).
        self.provisioned = False
        self.pid = 0
        self.last_used = ctx.clock.monotonic()
        self.invocations = 0
        self.init_duration_ms: float | None = None
        self.group = spec.log_group or f"/aws/lambda/{spec.function_name}"
        day = time.strftime("%Y/%m/%d", time.gmtime(ctx.clock.time()))
        self.stream = f"{day}/[{spec.version}]{env_id}"
        self.api = RuntimeApi(ctx.settings.max_response_bytes)
        self.capture: OutputCapture | None = None
        self.lines = PlatformLines(spec.log_format, spec.system_log_level, ctx.clock)  # text or JSON records
        self.cgroup: Cgroup | None = None
        self.exit_status: int | None = None
        self.dead: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._oom = False
        self._last_peak: int | None = None
        self._oom_before = 0
        self.spare: Spare | None = None  # the resident hosting this environment, if any
        self._running: Outcome | None = None  # the invocation in flight
        self.last_duration_ms: float | None = None  # of the previous invocation
        self._inside_server: asyncio.Server | None = None  # the API inside a private network namespace

    def _move(self, new: EnvironmentState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"environment {self.id}: {self.state.value} -> {new.value} is not allowed")
        self.state = new

    # -- start -----------------------------------------------------------------------------------------

    async def start(self) -> InitFailure | None:
        """Start the runtime and wait for its first `next`. Returns None when ready, else how init failed,
        to answer the triggering invocation with (the environment is then stopping or dead)."""
        ctx = self.ctx
        t0 = ctx.clock.monotonic()
        isolated = ctx.isolation.isolated and self.zygote.isolate
        paths = launch.paths_for(self.spec, isolated, ctx.runtime_dir, ctx.python_libraries)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        self.capture = OutputCapture(
            read_fd, ctx.store, self.group, self.stream, ctx.clock, ctx.settings.max_log_bytes_per_invocation
        )
        version = self.zygote.full_version if self.choice.family is launch.RuntimeFamily.PYTHON else ""
        line = self.lines.init_start(self.choice.name, version, self.spec.function_name, self.spec.version)
        if line is not None:
            self.capture.platform(line)
        note = launch.interpreter_note(self.choice, self._interpreter_version())
        if note:
            self.capture.platform(note)
        handoff: tuple[Any, Any] | None = None
        channel: tuple[Any, Any] | None = None
        fds = [write_fd]
        try:
            if isolated and ctx.isolation.network_namespace:
                import socket

                handoff = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                fds.append(handoff[1].fileno())
                address = f"127.0.0.1:{launch.RUNTIME_API_PORT}"
            else:
                if isolated and self.uid is not None:
                    self.api.allowed_uid = self.uid  # other functions share this network: only ours may call
                address = await self.api.listen()
            env = launch.environment_variables(
                self.spec, self.choice, paths, address, self.stream, ctx.settings,
                os.path.dirname(self.choice.interpreter or ctx.settings.default_python),
                ctx.credentials.issue(self.spec.function_arn), self._endpoint(handoff is not None),
                "" if handoff is not None else ctx.api.xray_daemon,
            )  # fmt: skip
            if self.provisioned:
                env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
            python_in_sandbox = "/var/lang/bin/python3" if isolated else self.zygote.python
            spec_launch = launch.launch_for(
                self.spec, self.choice, paths, env, ctx.settings.use_zygote, python_in_sandbox
            )
            if spec_launch["mode"] == "python":
                # Lamina's own runtime also gets a connected Unix socket to the Runtime API: a write on it
                # costs the platform far less than one on loopback TCP (no TCP stack run in the writer's
                # context), and this is the warm-invoke hot path. AWS_LAMBDA_RUNTIME_API stays served for
                # anything else in the environment.
                import socket

                channel = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                spec_launch["channel_fd"] = len(fds)
                fds.append(channel[1].fileno())
            spare = ctx.take_spare(self.zygote) if isolated else None
            pid = -1
            mounts: list[int] = []
            if spare is not None:
                try:
                    # The environment already pivoted into its private root: it gets its code (and
                    # layers) as detached mounts.
                    mounts = self._detached_mounts()
                except OSError as exc:
                    log.warning("cannot prepare the code mounts of %s: %s", self.spec.function_name, exc)
                    spare.pool.give_back(spare)
                    spare = None
            if spare is not None:
                plan = self._plan(isolated, spare)
                plan["mount_fds"] = {"task": len(fds)}
                if len(mounts) > 1:
                    plan["mount_fds"]["opt"] = len(fds) + 1
                try:
                    msg = {"op": "spawn", "plan": plan, "launch": spec_launch}
                    pid = await spare.assign(msg, fds + mounts)
                except OSError:
                    pid = -1  # the resident died meanwhile: start from scratch
                    self.cgroup = None
                    self.spare = None
                finally:
                    for fd in mounts:
                        os.close(fd)
            if pid < 0:
                plan = self._plan(isolated)
                pid = await self.zygote.spawn(plan, spec_launch, fds)
        except launch.LaunchError as exc:
            os.close(write_fd)
            self._close_handoff(handoff)
            self._close_handoff(channel)
            self.capture.platform(f"Lamina: {exc.message}")
            self._release()
            return InitFailure(exc.error_type, message=exc.message)
        except Exception:
            os.close(write_fd)
            self._close_handoff(handoff)
            self._close_handoff(channel)
            self._release()
            raise
        os.close(write_fd)
        if channel is not None:
            channel[1].close()
            await self.api.attach(channel[0])
        self.pid = pid
        self.zygote.watch(pid, self._on_exit)
        if handoff is not None:
            await self._receive_listener(handoff)
        timer = Timer(ctx.clock, ctx.settings.init_timeout_s, self._init_timed_out)
        try:
            outcome = await self.api.ready
        finally:
            timer.cancel()
        self.init_duration_ms = (ctx.clock.monotonic() - t0) * 1000.0
        if outcome is None and self.state is EnvironmentState.STARTING:
            self._move(EnvironmentState.IDLE)
            return None
        return self._init_failure(outcome)

    def _endpoint(self, netns: bool) -> str:
        """AWS_ENDPOINT_URL (see `ApiAddress`)."""
        api = self.ctx.api
        if not netns:
            return api.url
        if api.serve_inside is None or not api.port:
            return ""
        return f"http://127.0.0.1:{self._inside_port()}"

    def _inside_port(self) -> int:
        port = self.ctx.api.port
        return port if port != launch.RUNTIME_API_PORT else port + 1  # 9001 is the Runtime API's in there

    def _detached_mounts(self) -> list[int]:
        """The code directory, then the layers (one bind, or an overlay with later layers on top), as
        detached mount descriptors for an environment that can no longer see host paths."""
        fds = [libc.open_tree(str(self.spec.code_dir))]
        try:
            layers = [str(p) for p in self.spec.layer_dirs]
            if len(layers) == 1:
                fds.append(libc.open_tree(layers[0]))
            elif layers:
                # overlayfs stacks the leftmost lowerdir on top, and later layers must override earlier ones.
                fds.append(libc.overlay_tree(":".join(reversed(layers))))
        except OSError:
            os.close(fds[0])
            raise
        return fds

    def _interpreter_version(self) -> str:
        if self.choice.family is launch.RuntimeFamily.PYTHON:
            return self.zygote.full_version
        if self.choice.family is launch.RuntimeFamily.NODE:
            return self.ctx.node_version
        return ""

    def _plan(self, isolated: bool, spare: Spare | None = None) -> dict[str, Any]:
        ctx, spec = self.ctx, self.spec
        plan: dict[str, Any] = {
            "isolate": isolated,
            "netns": isolated and ctx.isolation.network_namespace,
            "root": str(ctx.template_root),
            "task_dir": str(spec.code_dir),
            "layers": [str(p) for p in spec.layer_dirs],
            "tmp_mb": spec.ephemeral_mb,
            "hostname": "localhost",
            "api_port": launch.RUNTIME_API_PORT,
        }
        if plan["netns"] and self._endpoint(True):
            plan["endpoint_port"] = self._inside_port()
        limits: dict[str, int] = {"NOFILE": 1024, "CORE": 0}
        if isolated and self.uid is not None:
            plan["uid"] = self.uid
            plan["gid"] = self.uid
            limits["NPROC"] = ctx.settings.pids_limit
        if spare is not None:
            self.spare = spare
            self.cgroup = spare.cgroup
            if self.cgroup is not None:
                self.cgroup.configure(spec.memory_mb, ctx.settings.pids_limit + 1)  # + the resident
                self._oom_before = self.cgroup.oom_kills()
        elif ctx.cgroups is not None and isolated:
            self.spare = None
            if self.cgroup is None:
                self.cgroup = ctx.cgroups.acquire()
            self.cgroup.configure(spec.memory_mb, ctx.settings.pids_limit)
            plan["cgroup_procs"] = self.cgroup.procs_files
        elif self.choice.family is not launch.RuntimeFamily.NODE:
            # Without a memory cgroup, an address-space limit is the closest bound we have.
            limits["AS"] = (spec.memory_mb + 384) * 1024 * 1024
        plan["rlimits"] = limits
        return plan

    async def _receive_listener(self, handoff: tuple[Any, Any]) -> None:
        """The listeners the environment bound in its network namespace: the Runtime API's, then (when
        the plan asked for it) the one this server's API is served on for AWS_ENDPOINT_URL."""
        import array

        ours, theirs = handoff
        theirs.close()
        loop = asyncio.get_running_loop()
        ours.setblocking(False)
        fds = array.array("i")
        try:
            _msg, anc, _flags, _addr = await _recvmsg(loop, ours, socket.CMSG_SPACE(2 * fds.itemsize))
        finally:
            ours.close()
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        listeners = [socket.socket(fileno=fd) for fd in fds]
        if len(listeners) > 1:
            serve_inside = self.ctx.api.serve_inside
            if serve_inside is None or self.state is EnvironmentState.DEAD:
                listeners[1].close()
            else:
                self._inside_server = await serve_inside(listeners[1])
        if listeners:
            await self.api.listen(listeners[0])

    @staticmethod
    def _close_handoff(handoff: tuple[Any, Any] | None) -> None:
        if handoff is not None:
            handoff[0].close()
            handoff[1].close()

    def _init_timed_out(self) -> None:
        self.api.interrupt(RuntimeReply(ReplyKind.TIMED_OUT, b""))

    def _init_failure(self, outcome: RuntimeReply | None) -> InitFailure:
        assert self.capture is not None
        self.capture.drain()
        duration = self.init_duration_ms or 0.0
        if outcome is not None and outcome.kind is ReplyKind.INIT_ERROR:
            error_type = outcome.error_type or "Runtime.Unknown"
            self.capture.platform(report.init_report(duration, "error", error_type))
            self.stop()
            return InitFailure(error_type, body=outcome.body)
        if outcome is not None and outcome.kind is ReplyKind.TIMED_OUT:
            self.capture.platform(report.init_report(duration, "timeout", None))
            self.stop()
            message = f"Error: Task timed out after {self.ctx.settings.init_timeout_s:.2f} seconds"
            return InitFailure("Sandbox.Timedout", message=message, type_first=False)
        how = describe_status(self.exit_status if self.exit_status is not None else -1)
        self.capture.platform(report.init_report(duration, "error", "Runtime.ExitError"))
        self.stop()
        return InitFailure("Runtime.ExitError", message=f"Error: Runtime exited with error: {how}")

    # -- invoke ----------------------------------------------------------------------------------------

    async def invoke(self, invocation: Invocation, init_failure: InitFailure | None = None) -> InvocationResult:
        """Run one invocation (or report `init_failure` as its outcome). Caller holds the environment."""
        if init_failure is not None:
            return self._init_failed(invocation, init_failure)
        future: asyncio.Future[RuntimeReply] = asyncio.get_running_loop().create_future()
        self.begin(invocation, resolver(future))
        return self.record(self.conclude(await future))

    def begin(self, invocation: Invocation, on_reply: Callable[[RuntimeReply], None]) -> None:
        """Hand `invocation` to the runtime; `on_reply` gets the reply (or the timeout, or the exit), then
        the caller passes it to `conclude` and the outcome to `record`. Caller holds the environment, IDLE."""
        ctx = self.ctx
        running = self._start_invocation(invocation)
        self._move(EnvironmentState.BUSY)
        clock = ctx.clock
        running.started = clock.monotonic()
        deadline_ms = int((clock.time() + self.spec.timeout_s) * 1000)
        self._running = running
        placement, pid = ctx.placement, self.pid
        placement.started(pid, self.last_duration_ms)

        def reply(answer: RuntimeReply) -> None:
            # The timer goes the moment the invocation ends, not when the caller gets to `conclude` (the general
            # path resumes a turn of the loop later): it must not fire for an invocation already answered.
            if running.timer is not None:
                running.timer.cancel()
            placement.ended(pid)
            on_reply(answer)

        try:
            self.api.deliver(invocation, deadline_ms, reply)
        except BaseException:
            placement.ended(pid)
            self._running = None
            raise
        if self._running is running:  # (delivering can end it at once: the runtime may be gone)
            running.timer = Timer(clock, self.spec.timeout_s, self._invoke_timed_out)

    def _start_invocation(self, invocation: Invocation) -> Outcome:
        capture = self.capture
        assert capture is not None
        inv_log = InvocationLog(invocation.tail_logs)
        capture.begin(inv_log)
        line = self.lines.start(invocation.request_id, self.spec.version)
        if line is not None:
            capture.platform(line)
        init_ms = self.init_duration_ms if self.invocations == 0 and not self.provisioned else None
        self.invocations += 1
        return Outcome(invocation, inv_log, init_ms)

    def _init_failed(self, invocation: Invocation, init_failure: InitFailure) -> InvocationResult:
        outcome = self._start_invocation(invocation)
        body = init_failure.body
        if body is None:
            message = f"RequestId: {invocation.request_id} {init_failure.message}"
            body = error_document(init_failure.error_type, message, init_failure.type_first)
        outcome.payload = body
        outcome.function_error = "Unhandled"
        outcome.status = "timeout" if init_failure.error_type == "Sandbox.Timedout" else "error"
        outcome.error_type = init_failure.error_type
        return self.record(outcome)

    def conclude(self, reply: RuntimeReply) -> Outcome:
        """What the invocation `begin` started returns: the payload and function error. Its END and REPORT
        lines are written by `record`, which a caller may run after answering its own client."""
        outcome = self._running
        assert outcome is not None
        self._running = None
        ctx, spec = self.ctx, self.spec
        clock = ctx.clock
        outcome.duration_ms = self.last_duration_ms = (clock.monotonic() - outcome.started) * 1000.0
        self.last_used = clock.monotonic()
        kind = reply.kind
        request_id = outcome.invocation.request_id
        if kind is ReplyKind.RESPONSE or kind is ReplyKind.ERROR:
            if self.state is EnvironmentState.BUSY:
                self._move(EnvironmentState.IDLE)
            outcome.payload = reply.body
            outcome.function_error = None if kind is ReplyKind.RESPONSE else "Unhandled"
            return outcome
        outcome.function_error = "Unhandled"
        if kind is ReplyKind.TOO_LARGE:
            if self.state is EnvironmentState.BUSY:
                self._move(EnvironmentState.IDLE)
            limit = reply.limit or ctx.settings.max_response_bytes
            message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
            outcome.payload = error_document("Function.ResponseSizeTooLarge", message)
            return outcome
        capture = self.capture
        assert capture is not None
        if kind is ReplyKind.TIMED_OUT:
            self.stop()
            capture.drain()
            capture.platform(report.timed_out(clock.time(), request_id, spec.timeout_s))
            message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout_s:.2f} seconds"
            outcome.payload = error_document("Sandbox.Timedout", message, type_first=False)
            outcome.duration_ms = spec.timeout_s * 1000.0
            outcome.status = "timeout"
            return outcome
        # The runtime process ended mid-invocation (crash, sys.exit, OOM kill).
        how = describe_status(self.exit_status if self.exit_status is not None else -1)
        line = report.runtime_exited(request_id, how)
        capture.drain()
        capture.platform(line)
        error_type = "Runtime.OutOfMemory" if self._oom else "Runtime.ExitError"
        capture.platform(error_type)
        outcome.payload = error_document("Runtime.ExitError", line)
        outcome.status = "error"
        outcome.error_type = error_type
        return outcome

    def _invoke_timed_out(self) -> None:
        self.api.interrupt(RuntimeReply(ReplyKind.TIMED_OUT, b""))

    @overload
    def record(self, outcome: Outcome) -> InvocationResult: ...

    @overload
    def record(self, outcome: Outcome, result: Literal[False]) -> None: ...

    def record(self, outcome: Outcome, result: bool = True) -> InvocationResult | None:
        """The invocation's END and REPORT lines, and (unless told not to) its result."""
        capture = self.capture
        assert capture is not None
        capture.read_pending()  # the function's output before END; one commit below takes it all
        invocation = outcome.invocation
        request_id = invocation.request_id
        lines = self.lines
        end = lines.end(request_id, outcome.duration_ms, outcome.status)
        if end is not None:
            capture.platform(end)
        line = lines.report(
            request_id,
            outcome.duration_ms,
            self.spec.memory_mb,
            self.max_memory_mb(),
            outcome.init_ms,
            outcome.status,
            outcome.error_type,
        )
        if line is not None:
            capture.platform(line)
        capture.finish()
        capture.commit()
        hook = self.ctx.on_invoked
        if hook is not None:
            hook(
                self.spec,
                invocation.invoked_arn,
                outcome.duration_ms,
                outcome.init_ms,
                outcome.function_error is not None,
            )
        traced = self.ctx.on_traced
        if traced is not None and "Sampled=1" in invocation.trace_id:
            self._traced(traced, outcome)
        if not result:
            return None
        return InvocationResult(
            payload=outcome.payload,
            executed_version=self.spec.version,
            function_error=outcome.function_error,
            log_tail=outcome.log.tail() if invocation.tail_logs else None,
            duration_ms=outcome.duration_ms,
            init_duration_ms=outcome.init_ms,
        )

    def _traced(self, traced: TracedHook, outcome: Outcome) -> None:
        clock = self.ctx.clock
        now = clock.time()
        # (an init failure never reached the runtime: no start of its own)
        started = now - (clock.monotonic() - outcome.started) if outcome.started else now - outcome.duration_ms / 1e3
        ended = started + outcome.duration_ms / 1000.0
        traced(
            TracedInvocation(
                self.spec,
                outcome.invocation,
                started,
                min(ended, now),
                now,
                outcome.init_ms,
                outcome.function_error,
                outcome.error_type,
                outcome.payload,
            )
        )

    def max_memory_mb(self) -> int:
        peak = self.cgroup.peak_memory_bytes() if self.cgroup is not None else self._last_peak
        if peak is None and self.pid:
            try:
                with open(f"/proc/{self.pid}/status", "rb") as f:
                    for line in f:
                        if line.startswith(b"VmHWM:"):
                            peak = int(line.split()[1]) * 1024
                            break
            except OSError:
                peak = None
        if not peak:
            return 0
        return min(self.spec.memory_mb, -(-peak // (1024 * 1024)))

    # -- stop ------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Kill the whole process tree; resources are released when the exit is observed."""
        if self.state in (EnvironmentState.STOPPING, EnvironmentState.DEAD):
            return
        self._move(EnvironmentState.STOPPING)
        self.api.interrupt(RuntimeReply(ReplyKind.EXITED, b""))
        if self.pid:
            self.zygote.kill(self.pid)
            if self.cgroup is not None and self.spare is None:
                self.cgroup.kill_all()
        else:
            self._release()

    def _on_exit(self, status: int) -> None:
        self.exit_status = status
        if self.cgroup is not None:
            self._oom = self.cgroup.oom_kills() > self._oom_before
            self._last_peak = self.cgroup.peak_memory_bytes()
            if self.spare is None:
                self.cgroup.kill_all()  # orphans outside a pid namespace, if any
        self.api.interrupt(RuntimeReply(ReplyKind.EXITED, b""))
        self._release()

    def _release(self) -> None:
        if self.state is EnvironmentState.DEAD:
            return
        self.state = EnvironmentState.DEAD
        self.ctx.placement.forget(self.pid)
        self.api.close()
        if self._inside_server is not None:
            self._inside_server.close()
            self._inside_server = None
        if self.capture is not None:
            self.capture.close()
        if self.spare is not None:
            self.spare.pool.give_back(self.spare)  # the cgroup stays with its resident
            self.spare = None
            self.cgroup = None
        elif self.cgroup is not None and self.ctx.cgroups is not None:
            self.ctx.cgroups.release(self.cgroup)
            self.cgroup = None
        if self.uid is not None:
            self.ctx.release_uid(self.uid)
            self.uid = None
        if not self.dead.done():
            self.dead.set_result(None)


async def _recvmsg(loop: asyncio.AbstractEventLoop, sock: Any, ancsize: int) -> Any:
    fut: asyncio.Future[Any] = loop.create_future()

    def ready() -> None:
        try:
            result = sock.recvmsg(1, ancsize)
        except BlockingIOError:
            return
        except OSError as exc:
            loop.remove_reader(sock.fileno())
            fut.set_exception(exc)
            return
        loop.remove_reader(sock.fileno())
        fut.set_result(result)

    loop.add_reader(sock.fileno(), ready)
    return await fut
