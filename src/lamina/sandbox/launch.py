"""From a `VersionSpec` to what the zygote must do: which runtime, which program, which variables, which
confinement plan.

Runtime families (spec §11): `python3.x` runs Lamina's Python runtime client (in the forked zygote
interpreter, or a fresh interpreter when zygotes are off); `nodejs*` runs Lamina's Node bootstrap;
`provided*` (and a missing runtime, i.e. container-style packages) executes `bootstrap` from the code, else
from the layers. A runtime whose interpreter the host lacks runs on the nearest one; `RuntimeChoice.note`
says so and the environment's log repeats it.

The paths a function sees depend on isolation: `/var/task`, `/opt`, `/var/runtime` in a sandbox, the real
directories in fallback mode (there is no private root to mount them in).
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..types import VersionSpec
from .role_credentials import RoleCredentials
from .settings import SandboxSettings

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
OPT = "/opt"
LAMBDA_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
LAMBDA_LD_LIBRARY_PATH = (
    "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
)
RUNTIME_API_PORT = 9001  # inside a private network namespace, as on Lambda
XRAY_DAEMON_HOST, XRAY_DAEMON_PORT = "169.254.79.129", 2000  # as Lambda sets them today (older: .79.2)

# Reserved variables (spec §6) are set last, so configuration cannot override them.
RESERVED = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SECURITY_TOKEN",
        "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip


class RuntimeFamily(Enum):
    PYTHON = "python"
    NODE = "nodejs"
    PROVIDED = "provided"


class LaunchError(Exception):
    """The environment cannot be started at all (e.g. no bootstrap); carries Lambda's error type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class RuntimeChoice:
    family: RuntimeFamily
    name: str  # as configured, e.g. "python3.13"
    interpreter: str  # python or node executable ("" for provided)


def choose_runtime(spec: VersionSpec, settings: SandboxSettings) -> RuntimeChoice:
    name = spec.runtime or "provided.al2023"
    if name.startswith("python"):
        return RuntimeChoice(RuntimeFamily.PYTHON, name, settings.python_for(name))
    if name.startswith("nodejs"):
        node = shutil.which(settings.node_binary) or settings.node_binary
        return RuntimeChoice(RuntimeFamily.NODE, name, os.path.realpath(node))
    if name.startswith("provided"):
        return RuntimeChoice(RuntimeFamily.PROVIDED, name, "")
    raise LaunchError("Runtime.InvalidRuntime", f"Runtime {name} is not supported by Lamina")


def interpreter_note(choice: RuntimeChoice, actual_version: str) -> str | None:
    """Say when the runtime runs on another interpreter version than its name promises."""
    if choice.family is RuntimeFamily.PYTHON:
        wanted = choice.name.removeprefix("python")
        if not actual_version.startswith(wanted + ".") and actual_version != wanted:
            return f"Lamina: runtime {choice.name} is not installed on this host; running on Python {actual_version}"
    elif choice.family is RuntimeFamily.NODE:
        wanted = choice.name.removeprefix("nodejs").removesuffix(".x")
        if not actual_version.lstrip("v").startswith(wanted + "."):
            return f"Lamina: runtime {choice.name} is not installed on this host; running on Node.js {actual_version}"
    return None


@dataclass(frozen=True)
class Paths:
    """Where the function's directories appear to it."""

    task: str
    runtime: str
    opt: str
    isolated: bool
    # Where boto3 and its dependencies are when they are not in `runtime` (runtime_libraries.py); "" in a
    # sandbox, where they are bound into /var/runtime.
    libraries: str = ""

    @property
    def runtime_path(self) -> list[str]:
        """The runtime's own entries of Python's search path, after the code's, the layers' and the
        standard library's."""
        return [self.runtime, self.libraries] if self.libraries else [self.runtime]


def paths_for(spec: VersionSpec, isolated: bool, runtime_dir: Path, libraries: Path | None = None) -> Paths:
    if isolated:
        return Paths(TASK_ROOT, RUNTIME_DIR, OPT, True)
    top_layer = str(spec.layer_dirs[-1]) if spec.layer_dirs else OPT
    return Paths(str(spec.code_dir), str(runtime_dir), top_layer, False, str(libraries or ""))


def environment_variables(
    spec: VersionSpec,
    choice: RuntimeChoice,
    paths: Paths,
    api_address: str,
    stream: str,
    settings: SandboxSettings,
    host_python_bin: str,
    credentials: RoleCredentials,
    endpoint: str = "",
    xray_daemon: str = "",
) -> dict[str, str]:
    """Lambda's variables (spec §6): the unreserved ones first (configuration may override them), the
    reserved ones last. `endpoint` is where the function reaches this server (AWS_ENDPOINT_URL, which the
    SDKs honour: boto3 in a function then calls Lamina, not AWS); `xray_daemon` the host:port of Lamina's
    X-Ray daemon endpoint (AWS_XRAY_DAEMON_ADDRESS: the X-Ray SDK and Powertools Tracer send segments there)."""
    daemon_host, daemon_port = xray_daemon.rsplit(":", 1) if xray_daemon else (XRAY_DAEMON_HOST, str(XRAY_DAEMON_PORT))
    env: dict[str, str] = {
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": LAMBDA_PATH,
        "LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH,
        "PWD": paths.task,
        "SHLVL": "0",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": f"{daemon_host}:{daemon_port}",
        "_AWS_XRAY_DAEMON_ADDRESS": daemon_host,
        "_AWS_XRAY_DAEMON_PORT": daemon_port,
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    if not paths.isolated:
        # No /var/lang or /opt here: point at the real directories instead.
        layer_bins = [f"{layer}/bin" for layer in reversed(spec.layer_dirs)]
        env["PATH"] = ":".join([host_python_bin, *layer_bins, "/usr/local/bin", "/usr/bin", "/bin"])
        env["LD_LIBRARY_PATH"] = ":".join([paths.task, f"{paths.task}/lib", *(f"{d}/lib" for d in spec.layer_dirs)])
    if choice.family is RuntimeFamily.PYTHON:
        env["PYTHONPATH"] = ":".join(paths.runtime_path)
    elif choice.family is RuntimeFamily.NODE:
        major = choice.name.removeprefix("nodejs").removesuffix(".x")
        if paths.isolated:
            env["NODE_PATH"] = (
                f"/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules"
            )
        else:
            env["NODE_PATH"] = ":".join(f"{d}/nodejs/node_modules" for d in reversed(spec.layer_dirs))
    if spec.log_format.upper() == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if spec.application_log_level:  # the runtime's logging level (Lambda sets it for JSON format only)
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    env.update(settings.extra_env)
    for key, value in spec.environment:
        if key not in RESERVED:
            env[key] = value
    env.update(
        {
            "_HANDLER": spec.handler or "",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group or f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            **credentials.variables(),
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "LAMBDA_TASK_ROOT": paths.task,
            "LAMBDA_RUNTIME_DIR": paths.runtime,
        }
    )
    if choice.family is not RuntimeFamily.PROVIDED:
        env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{choice.name}"
    return env


def _executable(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and bool(mode & 0o111)


def find_bootstrap(spec: VersionSpec, paths: Paths) -> str:
    """`/var/task/bootstrap`, else `/opt/bootstrap` (the topmost layer that has one), spec §7."""
    if _executable(spec.code_dir / "bootstrap"):
        return f"{paths.task}/bootstrap"
    for layer in reversed(spec.layer_dirs):
        if _executable(layer / "bootstrap"):
            return f"{OPT}/bootstrap" if paths.isolated else str(layer / "bootstrap")
    raise LaunchError(
        "Runtime.InvalidEntrypoint",
        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    )


def launch_for(
    spec: VersionSpec,
    choice: RuntimeChoice,
    paths: Paths,
    env: dict[str, str],
    use_zygote: bool,
    python_in_sandbox: str,
) -> dict[str, Any]:
    """The zygote's `launch` message: run the Python runtime in the forked interpreter, or exec."""
    if choice.family is RuntimeFamily.PYTHON:
        # Layers are built for the configured runtime (`python/lib/python3.12/site-packages` for python3.12);
        # when the host runs it on another interpreter, that folder is searched before the interpreter's own
        # (the same folder twice when they agree, which is harmless).
        site = [f"python/lib/{choice.name}/site-packages", "python/lib/python{version}/site-packages", "python"]
        sys_path = [paths.task, *(f"{paths.opt}/{p}" for p in site)]
        if not paths.isolated:
            sys_path = [paths.task] + [f"{layer}/{p}" for layer in reversed(spec.layer_dirs) for p in site]
        if use_zygote:
            return {
                "mode": "python",
                "env": env,
                "sys_path": sys_path,
                "isolated": paths.isolated,
                "runtime_dir": paths.runtime,
                "runtime_path": paths.runtime_path,
            }
        code = (
            "import sys; v = '%d.%d' % sys.version_info[:2]; "
            "sys.path[:0] = [p.replace('{version}', v) for p in sys.argv[2].split(':')]; "
            "sys.path += sys.argv[3].split(':'); "
            "from lamina_runtime.bootstrap import main; sys.exit(main(sys.argv[1]))"
        )
        argv = [python_in_sandbox, "-S", "-c", code, env["_HANDLER"], ":".join(sys_path), ":".join(paths.runtime_path)]
        return {"mode": "exec", "argv": argv, "env": env}
    if choice.family is RuntimeFamily.NODE:
        return {"mode": "exec", "argv": [choice.interpreter, f"{paths.runtime}/nodejs/bootstrap.js"], "env": env}
    return {"mode": "exec", "argv": [find_bootstrap(spec, paths)], "env": env}
