"""The execution data plane's front door: run one invocation of one function version, for real.

    executor = Executor(SandboxSettings(), SystemClock(), data_dir)
    await executor.start()
    result = await executor.invoke(spec, invocation)   # InvocationResult, errors included
    executor.retire(function_arn)                      # code or configuration changed
    await executor.provision(spec, 3)                  # provisioned concurrency: 3 environments ahead
    executor.unprovision(function_arn, version)        # ... and gone again
    await executor.close()

What happens on `invoke`: take the hottest idle environment of this exact configuration (`config_key`), or
start one (zygote fork → sandbox → runtime init); hand it the event through its Runtime API; wait within
the function's timeout; return the response, the function's error document, or Lambda's error document
for timeouts, crashes and init failures. Function failures are results, never exceptions; the only
exceptions are `CapacityExceeded` (every environment busy at `max_environments`) and platform bugs.

Invariants: one invocation per environment at a time; an environment that timed out or crashed is never
reused; `close()` leaves no process, cgroup or socket behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Hashable
from pathlib import Path

from ..clock import Clock
from ..logs.store import LogStore
from ..sandbox import cgroups, host_bounds, isolation, memory_merge, runtime_libraries
from ..sandbox.environment import (
    ApiAddress,
    Environment,
    EnvironmentState,
    InitFailure,
    InvokedHook,
    SandboxContext,
    ServeInside,
    TracedHook,
)
from ..sandbox.launch import LaunchError, RuntimeFamily, choose_runtime
from ..sandbox.placement import Placement
from ..sandbox.role_credentials import CredentialIssuer, LocalIssuer
from ..sandbox.settings import SandboxSettings
from ..sandbox.spares import Spare, SparePool
from ..sandbox.zygote import RUNTIMES_DIR, ZygoteDied, ZygoteProcess
from ..types import Invocation, InvocationResult, VersionSpec
from .pool import EnvironmentPool

log = logging.getLogger(__name__)

# Host directories every sandbox sees read-only (merged-/usr hosts get symlinks for /bin, /lib...).
SYSTEM_BINDS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc")


class CapacityExceeded(Exception):
    """Every environment slot is busy (`SandboxSettings.max_environments`); the caller should answer 429."""


class HostBoundsExceeded(CapacityExceeded):
    """A new environment would pass the host-wide bounds (host_bounds.py); also answered with 429."""


class Executor:
    def __init__(self, settings: SandboxSettings, clock: Clock, data_dir: Path) -> None:
        self.settings = settings
        self.clock = clock
        self.data_dir = data_dir
        self.logs = LogStore(
            data_dir / "lamina.db",  # the logs tables (migration 0009) of the platform's database
            now=clock.time,
            max_stream_bytes=settings.max_log_bytes_per_stream,
            max_group_bytes=settings.max_log_bytes_per_group,
        )
        self._pool = EnvironmentPool()
        self._zygotes: dict[str, ZygoteProcess] = {}
        self._spares: dict[ZygoteProcess, SparePool] = {}
        self._zygote_lock = asyncio.Lock()
        self._cgroups: cgroups.CgroupPool | None = None
        self._isolation: isolation.Isolation | None = None
        self._ctx: SandboxContext | None = None
        self._uids: deque[int] = deque(range(settings.uid_base, settings.uid_base + settings.uid_count))
        self._reaper: asyncio.Task[None] | None = None
        self._starting = 0
        self._closed = False
        # Provisioned concurrency: pool key → (spec, how many environments to keep initialised).
        self._provisioned: dict[Hashable, tuple[VersionSpec, int]] = {}
        self._refills: set[asyncio.Task[int]] = set()
        self._memory_merge = memory_merge.MemoryMerge(False, "not started")
        self._api = ApiAddress()
        self.xray_daemon = ""  # host:port of the X-Ray daemon endpoint functions are told of (app.py sets it)
        self._libraries = runtime_libraries.locate()
        # Who hands environments their execution role's credentials (app.py: STS; set before start()).
        self.credentials: CredentialIssuer = LocalIssuer()
        # Told of every recorded invocation (app.py: the AWS/Lambda metrics; set before start()).
        self.on_invoked: InvokedHook | None = None
        # Told of every sampled invocation (app.py: the X-Ray recorder; set before start()).
        self.on_traced: TracedHook | None = None
        self._bounds: host_bounds.HostBounds | None = None
        self._pending_mb = 0  # memory of environments admitted but not yet in the pool

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        self.logs.start()
        template_root = self.data_dir / "sandbox" / "root"
        template_root.mkdir(parents=True, exist_ok=True)
        layout = (
            cgroups.CgroupLayout(cgroups.CgroupVersion.NONE, reason="fallback forced")
            if settings.force_fallback
            else cgroups.detect()
        )
        iso = isolation.preliminary(settings.force_fallback, layout, settings.network_namespace)
        facts = host_bounds.read_facts(layout.bases)
        self._bounds = host_bounds.derive(facts, settings.max_environment_memory_mb, settings.max_environment_pids)
        self._memory_merge = memory_merge.configure(settings.memory_merge)
        runtime_dir = settings.runtime_dir or RUNTIMES_DIR
        self._ctx = SandboxContext(
            settings=settings,
            clock=self.clock,
            store=self.logs,
            isolation=iso,
            cgroups=None,
            template_root=template_root,
            runtime_dir=runtime_dir,
            release_uid=self._uids.append,
            placement=Placement(settings.cpu_placement),
            python_libraries=runtime_libraries.link_farm(
                self.data_dir / "sandbox" / "python-libraries", self._libraries
            ),
            api=self._api,
            credentials=self.credentials,
            on_invoked=self.on_invoked,
            on_traced=self.on_traced,
        )
        self._isolation = iso
        zygote = await self._zygote_for(settings.default_python)
        if self._memory_merge.enabled and zygote.merge_error:
            self._memory_merge = memory_merge.MemoryMerge(
                False, f"the kernel refused PR_SET_MEMORY_MERGE: {zygote.merge_error}", self._memory_merge.started
            )
        merge = self._memory_merge
        log.info("same-page merging of idle environments: %s (%s)", "on" if merge.enabled else "off", merge.reason)
        if iso.isolated and not zygote.isolate:
            iso.level = isolation.IsolationLevel.FALLBACK
            iso.network_namespace = False
            iso.reasons.append(f"the host refused namespaces or mounts: {zygote.error}")
            iso.cgroups = cgroups.CgroupLayout(cgroups.CgroupVersion.NONE, reason="fallback")
        if iso.isolated and iso.cgroups.version is not cgroups.CgroupVersion.NONE:
            pool = cgroups.CgroupPool(iso.cgroups, settings.cgroup_pool_size, self._bounds, host_bounds.derive(facts))
            try:
                await loop.run_in_executor(None, pool.start)
                self._cgroups = pool
                self._ctx.cgroups = pool
            except OSError as exc:
                iso.reasons.append(f"cgroups unusable: {exc}")
                iso.cgroups = cgroups.CgroupLayout(cgroups.CgroupVersion.NONE, reason=str(exc))
        isolation.warn_if_weak(iso)
        self._ctx.take_spare = self._take_spare
        self._ctx.node_version = await self._node_version()
        self._reaper = loop.create_task(self._reap_forever())
        self._take_spare(zygote)  # the first take only starts filling the pool

    def _take_spare(self, zygote: ZygoteProcess) -> Spare | None:
        assert self._ctx is not None
        iso = self._ctx.isolation
        if not iso.isolated or not zygote.isolate or self.settings.spare_environments <= 0:
            return None
        pool = self._spares.get(zygote)
        if pool is None:
            assert self._ctx is not None
            plan = {
                "isolate": True,
                "netns": iso.network_namespace,
                "root": str(self._ctx.template_root),
                "hostname": "localhost",
            }
            pool = SparePool(zygote, self._cgroups, self.settings.spare_environments, plan, self.settings.pids_limit)
            self._spares[zygote] = pool
        return pool.take()

    async def _node_version(self) -> str:
        node = shutil.which(self.settings.node_binary)
        if node is None:
            return ""
        try:
            proc = await asyncio.create_subprocess_exec(
                node, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
            )
            out, _ = await proc.communicate()
        except OSError:
            return ""
        return out.decode().strip()

    async def _zygote_for(self, python: str) -> ZygoteProcess:
        zygote = self._zygotes.get(python)
        if zygote is not None and zygote.alive:
            return zygote
        async with self._zygote_lock:
            zygote = self._zygotes.get(python)
            if zygote is not None and zygote.alive:
                return zygote
            if zygote is not None:
                spares = self._spares.pop(zygote, None)
                if spares is not None:
                    await spares.close()
                await zygote.close()
            assert self._ctx is not None
            template = None
            if self._ctx.isolation.isolated:
                template = {"root": str(self._ctx.template_root), "binds": self._binds()}
            zygote = ZygoteProcess(
                python,
                template,
                preload=self.settings.use_zygote,
                memory_merge=self._memory_merge.enabled,
                cpus=self._ctx.placement.cpus,
            )
            await zygote.start()
            self._zygotes[python] = zygote
            return zygote

    def _binds(self) -> list[list[str]]:
        assert self._ctx is not None
        binds = [[path, path] for path in SYSTEM_BINDS]
        # /var/runtime: Lamina's runtime clients and, as on AWS, boto3 and its dependencies (nothing else of
        # the platform's environment), each bound on its own.
        for entry in sorted(self._ctx.runtime_dir.iterdir()):
            if entry.name != "__pycache__":
                binds.append([str(entry), f"/var/runtime/{entry.name}"])
        for name, path in self._libraries.items():
            binds.append([str(path), f"/var/runtime/{name}"])
        node = shutil.which(self.settings.node_binary)
        if node is not None:
            prefix = os.path.dirname(os.path.dirname(os.path.realpath(node)))
            if not prefix.startswith("/usr"):
                binds.append([prefix, prefix])
        return binds

    async def close(self) -> None:
        """Stop every environment and zygote; wait until their processes are gone."""
        if self._closed:
            return
        self._closed = True
        self._provisioned.clear()
        for task in list(self._refills):
            task.cancel()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        envs = list(self._pool)
        for env in envs:
            env.stop()
        waiting = [env.dead for env in envs if not env.dead.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=5)
        for spares in self._spares.values():
            await spares.close()
        self._spares.clear()
        for zygote in self._zygotes.values():
            await zygote.close()
        self._zygotes.clear()
        if self._cgroups is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._cgroups.close)
            self._cgroups = None
        self.logs.flush()
        self.logs.close()
        memory_merge.release(self._memory_merge)
        if self._ctx is not None:
            self._ctx.placement.close()

    def serve_api_at(self, host: str, port: int, serve_inside: ServeInside | None = None) -> None:
        """Tell functions where this server listens (their AWS_ENDPOINT_URL): `host` as bound, with the
        wildcard addresses replaced by loopback, which every environment on the host's network reaches.
        In a private network namespace the environment binds 127.0.0.1:`port` itself and `serve_inside`
        serves the API on that listener."""
        if host in ("", "0.0.0.0", "::", "[::]"):
            host = "127.0.0.1"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        self._api = ApiAddress(f"http://{host}:{port}", port, serve_inside, self.xray_daemon)
        if self._ctx is not None:
            self._ctx.api = self._api

    def require_network_namespace(self) -> None:
        """Raises NetworkIsolationUnavailable unless environments get their own network namespace."""
        assert self._isolation is not None, "after start"
        isolation.require_network_namespace(self._isolation)

    def isolation_report(self) -> dict[str, object]:
        report: dict[str, object] = {} if self._isolation is None else self._isolation.report()
        report["zygote"] = self.settings.use_zygote
        report["memory_merge"] = self._memory_merge.report()
        if self._ctx is not None:
            report["cpu_placement"] = self._ctx.placement.report()
        report["environments"] = len(self._pool)
        report["host_bounds"] = self.bounds_report()
        report["idle_environments"] = len(self._pool.idle())
        return report

    def environment_states(self) -> dict[str, int]:
        """How many environments are in each state now (GET /metrics)."""
        counts: dict[str, int] = {}
        for env in self._pool:
            counts[env.state.value] = counts.get(env.state.value, 0) + 1
        return counts

    def reserved_memory_mb(self) -> int:
        return self._reserved_mb()

    def bounds_report(self) -> dict[str, object]:
        """The host-wide bounds, how they are held, and how much of them is in use (GET /health)."""
        if self._bounds is None:
            return {}
        bounds = self._bounds
        report: dict[str, object] = {
            "max_memory_mb": bounds.memory_mb,
            "max_memory_source": bounds.memory_source,
            "max_pids": bounds.pids,
            "max_pids_source": bounds.pids_source,
            "reserved_memory_mb": self._reserved_mb(),
        }
        if self._cgroups is None:
            # No parent group: only admission (reserved memory) bounds the sum; each environment's own
            # processes and address space are bounded by rlimits (RLIMIT_NPROC, RLIMIT_AS).
            report["enforcement"] = "admission and per-environment rlimits (no cgroups)"
            return report
        current, maximum = self._cgroups.parent_pids()
        report["enforcement"] = "parent cgroup" if not self._cgroups.bound_errors else "admission only"
        report["pids_cgroup"] = str(self._cgroups.pids_parent)
        report["pids_current"] = current
        report["pids_max"] = maximum
        if self._cgroups.bound_errors:
            report["errors"] = list(self._cgroups.bound_errors)
        return report

    def _reserved_mb(self) -> int:
        """Memory of live environments and of those being admitted. A stopping one no longer counts: it is
        being killed, and the parent group's limit covers the moment both overlap."""
        live = (env for env in self._pool if env.state not in (EnvironmentState.STOPPING, EnvironmentState.DEAD))
        return sum(env.spec.memory_mb for env in live) + self._pending_mb

    def _admit(self, spec: VersionSpec) -> None:
        """Refuse an environment past the host-wide bounds, after evicting idle ones that would make room."""
        bounds = self._bounds
        if bounds is None:
            return
        while self._reserved_mb() + spec.memory_mb > bounds.memory_mb:
            victim = self._pool.least_recently_used_idle()
            if victim is None:
                raise HostBoundsExceeded(
                    f"Lamina cannot start another execution environment: its {spec.memory_mb} MB would pass the "
                    f"host bound of {bounds.memory_mb} MB for all environments ({self._reserved_mb()} MB in use; "
                    "lamina serve --max-environment-memory)"
                )
            self._pool.remove_idle(victim)
            victim.stop()
        if self._cgroups is not None:
            current, maximum = self._cgroups.parent_pids()
            if maximum is not None and current + host_bounds.PIDS_PER_START > maximum:
                raise HostBoundsExceeded(
                    f"Lamina cannot start another execution environment: the environments' processes are at the "
                    f"host bound ({current} of {maximum} pids in use; lamina serve --max-environment-pids)"
                )

    # -- invoke ----------------------------------------------------------------------------------------

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        if self._ctx is None or self._closed:
            raise RuntimeError("the executor is not running")
        key = self._key(spec)
        env = self._pool.take(key)
        if env is None:
            try:
                choose_runtime(spec, self.settings)
            except LaunchError as exc:
                body = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
                return InvocationResult(body, spec.version, function_error="Unhandled")
            env, failure = await self._start_environment(spec, key)
            if failure is not None:
                return await env.invoke(invocation, failure)
        result = await env.invoke(invocation)
        self.give_back(env)
        return result

    def take_warm(self, spec: VersionSpec) -> Environment | None:
        """An idle environment of `spec`, now, for a caller that drives it itself (`Environment.begin`) and
        then hands it back with `give_back`; None when starting one would be needed."""
        if self._ctx is None or self._closed:
            return None
        return self._pool.take(self._key(spec))

    def give_back(self, env: Environment) -> None:
        """An invocation on `env` ended: it serves the next one, unless it failed, was retired or we close."""
        if env.state is EnvironmentState.IDLE:
            if env.retired or self._closed:
                env.stop()
            else:
                self._pool.give_back(env)

    async def _start_environment(
        self, spec: VersionSpec, key: Hashable, provisioned: bool = False
    ) -> tuple[Environment, InitFailure | None]:
        assert self._ctx is not None
        if len(self._pool) + self._starting >= self.settings.max_environments:
            victim = self._pool.least_recently_used_idle()
            if victim is None:
                raise CapacityExceeded(f"all {self.settings.max_environments} execution environments are busy")
            self._pool.remove_idle(victim)
            victim.stop()
        self._admit(spec)
        self._starting += 1
        try:
            for attempt in (1, 2):
                self._pending_mb += spec.memory_mb
                try:
                    env = self._new_environment(spec, await self._zygote_for_spec(spec))
                finally:
                    self._pending_mb -= spec.memory_mb
                env.provisioned = provisioned
                self._pool.add(env, key)
                env.dead.add_done_callback(self._forget(env))
                try:
                    failure = await env.start()
                except ZygoteDied:
                    env.stop()
                    if attempt == 2:
                        raise
                    continue
                return env, failure
        finally:
            self._starting -= 1
        raise AssertionError("unreachable")

    def _forget(self, env: Environment) -> Callable[[asyncio.Future[None]], None]:
        return lambda _f: self._pool.discard(env)

    async def _zygote_for_spec(self, spec: VersionSpec) -> ZygoteProcess:
        choice = choose_runtime(spec, self.settings)
        python = choice.interpreter if choice.family is RuntimeFamily.PYTHON else self.settings.default_python
        return await self._zygote_for(python)

    def _new_environment(self, spec: VersionSpec, zygote: ZygoteProcess) -> Environment:
        assert self._ctx is not None
        choice = choose_runtime(spec, self.settings)
        uid = self._uids.popleft() if self._uids else None
        return Environment(self._ctx, spec, choice, zygote, uid, uuid.uuid4().hex)

    # -- provisioned concurrency -----------------------------------------------------------------------

    @staticmethod
    def _key(spec: VersionSpec) -> Hashable:
        return (spec.function_arn, spec.version, spec.config_key) if spec.config_key else spec

    async def provision(self, spec: VersionSpec, count: int) -> int:
        """Keep `count` environments of `spec` initialised ahead of requests (AWS_LAMBDA_INITIALIZATION_TYPE
        provisioned-concurrency), never reaped, handed out before on-demand ones. Starts the missing ones
        in parallel, stops any beyond `count`; returns how many are ready. An environment that dies (a
        timeout, a crash) is replaced while the target stands."""
        if self._ctx is None or self._closed:
            raise RuntimeError("the executor is not running")
        key = self._key(spec)
        self._provisioned[key] = (spec, count)
        live = [env for env in self._pool.provisioned(key) if env.state is not EnvironmentState.STOPPING]
        for env in live[count:]:
            env.provisioned = False  # an ordinary environment from now on: finishes its work, then stops
            if env.state is EnvironmentState.IDLE:
                self._pool.remove_idle(env)
                env.stop()
        missing = count - min(len(live), count)
        if missing > 0:
            choose_runtime(spec, self.settings)  # raises LaunchError for a runtime that cannot start
            await asyncio.gather(*(self._start_provisioned(spec, key) for _ in range(missing)))
        return self.provisioned_ready(spec)

    def provisioned_ready(self, spec: VersionSpec) -> int:
        key = self._key(spec)
        ready = (EnvironmentState.IDLE, EnvironmentState.BUSY)
        return sum(1 for env in self._pool.provisioned(key) if env.state in ready)

    async def _start_provisioned(self, spec: VersionSpec, key: Hashable) -> None:
        try:
            env, failure = await self._start_environment(spec, key, provisioned=True)
        except CapacityExceeded:
            log.warning("no capacity for a provisioned environment of %s:%s", spec.function_arn, spec.version)
            return
        if failure is not None:
            env.stop()
            return
        if self._provisioned.get(key) is None or self._closed:
            env.stop()
            return
        env.dead.add_done_callback(lambda _f: self._refill(key))
        self._pool.give_back(env)

    def _refill(self, key: Hashable) -> None:
        target = self._provisioned.get(key)
        if target is None or self._closed:
            return
        task = asyncio.get_running_loop().create_task(self.provision(*target))
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)

    def unprovision(self, function_arn: str, version: str) -> None:
        """Provisioned environments of that version become ordinary ones: idle ones stop now, busy ones
        after their invocation."""
        for key in [
            k for k, (s, _n) in self._provisioned.items() if (s.function_arn, s.version) == (function_arn, version)
        ]:
            del self._provisioned[key]
            for env in self._pool.provisioned(key):
                env.provisioned = False
                if env.state is EnvironmentState.IDLE:
                    self._pool.remove_idle(env)
                    env.stop()

    def retire(self, function_arn: str, version: str | None = None) -> None:
        for key, (spec, _n) in list(self._provisioned.items()):
            if spec.function_arn == function_arn and (version is None or spec.version == version):
                del self._provisioned[key]
        for env in self._pool:
            if env.spec.function_arn == function_arn and (version is None or env.spec.version == version):
                env.retired = True
                if env.state is EnvironmentState.IDLE:
                    self._pool.remove_idle(env)
                    env.stop()

    # -- reaping ---------------------------------------------------------------------------------------

    def reap_idle(self) -> int:
        """Stop environments idle for longer than the idle timeout; returns how many."""
        now = self.clock.monotonic()
        reaped = 0
        for env in self._pool.idle():
            if now - env.last_used >= self.settings.idle_timeout_s:
                self._pool.remove_idle(env)
                env.stop()
                reaped += 1
        return reaped

    async def _reap_forever(self) -> None:
        interval = min(max(self.settings.idle_timeout_s / 10, 0.01), 30.0)
        while True:
            await self.clock.sleep(interval)
            try:
                self.reap_idle()
            except Exception:  # the reaper must survive anything one environment does
                log.exception("idle reaping failed")
