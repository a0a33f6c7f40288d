"""What code inside a function sees, compared with AWS (issue 12 items 1-4), through boto3 against a real
`lamina serve`: a function reports its environment and calls Lamina with a plain `boto3.client(...)`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lamina.invoke.executor import Executor
from tests.conftest import make_zip
from tests.invoke.harness import Functions, Loop, call, run_with_executor
from tests.server import LaminaProcess

pytestmark = pytest.mark.slow

REPORTER = """
import os, pwd, grp, resource, sys
from pathlib import Path

def handler(event, context):
    out = {"env": dict(os.environ), "uid": os.getuid(), "sys_path": sys.path}
    try:
        import boto3, botocore
        out["boto3"] = boto3.__file__
        out["botocore"] = botocore.__version__
    except ImportError as exc:
        out["boto3"] = "ImportError: %s" % exc
    for name in event.get("must_not_import", []):
        try:
            __import__(name)
            out.setdefault("imported", []).append(name)
        except ImportError:
            pass
    try:
        out["user"] = pwd.getpwuid(os.getuid()).pw_name
        out["group"] = grp.getgrgid(os.getgid()).gr_name
        out["task_owner"] = Path(os.environ["LAMBDA_TASK_ROOT"]).owner()
        if os.environ["LAMBDA_TASK_ROOT"] == "/var/task":  # a private /tmp
            out["tmp_listing"] = sorted(os.listdir("/tmp"))
    except KeyError as exc:
        out["user"] = "KeyError: %s" % exc
    out["limits"] = {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n))[0] for n in ("NOFILE", "NPROC", "CORE")}
    if event.get("call"):
        pages = boto3.client("lambda").get_paginator("list_functions").paginate()  # other tests' functions too
        out["functions"] = [f["FunctionName"] for page in pages for f in page["Functions"]]
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName=event["call"])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="from inside")
        out["queue_url"] = url
    return out
"""

SHADOW: dict[str, str | bytes] = {"app.py": REPORTER, "boto3/__init__.py": "__version__ = 'mine'\n"}


def report(lambda_client: Any, name: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, body
    out: dict[str, Any] = body
    return out


@pytest.mark.parametrize("runtime", ["python3.9", "python3.12", "python3.13"])
def test_boto3_ships_with_every_python_runtime(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str, runtime: str
) -> None:
    create_function(fn_name, Runtime=runtime, Code={"ZipFile": make_zip({"app.py": REPORTER})})
    out = report(lambda_client, fn_name, {"must_not_import": ["uvloop", "httptools", "cryptography", "lamina"]})
    assert out["boto3"] == "/var/runtime/boto3/__init__.py"
    assert out["botocore"] == "1.44.5"
    assert "imported" not in out  # only boto3 and its dependencies are visible, nothing else of Lamina's
    path = out["sys_path"]
    # AWS's order: the code, the layers, then the runtime's directory.
    assert path[0] == "/var/task" and path.index("/opt/python") < path.index("/var/runtime")


def test_the_package_own_copy_wins(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip(SHADOW)})
    out = report(lambda_client, fn_name)
    assert out["boto3"] == "/var/task/boto3/__init__.py"


def test_function_calls_lamina_with_a_plain_boto3_client(
    lamina: LaminaProcess, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": REPORTER})}, Timeout=30)
    out = report(lambda_client, fn_name, {"call": f"q-{fn_name}"})
    assert out["env"]["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{lamina.port}"
    assert fn_name in out["functions"]
    assert out["queue_url"] == f"http://127.0.0.1:{lamina.port}/000000000000/q-{fn_name}"
    sqs = lamina.client("sqs")
    got = sqs.receive_message(QueueUrl=out["queue_url"], WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["from inside"]


def test_configured_endpoint_wins(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    variables = {"AWS_ENDPOINT_URL": "http://example.invalid:1"}
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": REPORTER})}, Environment={"Variables": variables})
    assert report(lambda_client, fn_name)["env"]["AWS_ENDPOINT_URL"] == "http://example.invalid:1"


def test_sandbox_user_has_a_name(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": REPORTER})})
    out = report(lambda_client, fn_name)
    assert out["uid"] != 0
    assert (out["user"], out["group"], out["task_owner"]) == ("sbx_user1051", "sbx_user1051", "root")
    assert out["tmp_listing"] == []  # the passwd and group files leave nothing behind in /tmp


ACCESS_KEY = re.compile(r"ASIA[A-Z0-9]{16}")


def test_distinct_well_formed_credentials_and_aws_variables(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": REPORTER})})
    create_function(fn_name + "-b", Code={"ZipFile": make_zip({"app.py": REPORTER})})
    first, again, other = (report(lambda_client, n)["env"] for n in (fn_name, fn_name, fn_name + "-b"))
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    assert [first[k] for k in keys] == [again[k] for k in keys]  # stable for the environment's life
    for k in keys:
        assert first[k] != other[k]
    assert ACCESS_KEY.fullmatch(first["AWS_ACCESS_KEY_ID"])
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", first["AWS_SECRET_ACCESS_KEY"])
    assert len(first["AWS_SESSION_TOKEN"]) > 300 and first["AWS_SESSION_TOKEN"].startswith("IQoJb3JpZ2luX2Vj")
    expected = {
        # Lamina's own daemon endpoint (services/xray/daemon.py), where AWS has 169.254.79.129:2000
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
        "_AWS_XRAY_DAEMON_PORT": first["_AWS_XRAY_DAEMON_PORT"],
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{first['_AWS_XRAY_DAEMON_PORT']}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "PWD": "/var/task",
        "SHLVL": "0",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
    }
    assert {k: first.get(k) for k in expected} == expected


def test_resource_limits_as_documented(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": REPORTER})})
    assert report(lambda_client, fn_name)["limits"] == {"NOFILE": 1024, "NPROC": 1024, "CORE": 0}


def test_without_isolation(loop: Loop, functions: Functions, data_dir: Path) -> None:
    """No private root: boto3 still imports (from a directory holding only it and its dependencies), and
    the function runs as the host's own user, named by the host's /etc/passwd."""
    spec = functions.spec({"app.py": REPORTER})

    async def body(executor: Executor) -> dict[str, Any]:
        out: dict[str, Any] = json.loads((await call(executor, spec, b'{"must_not_import": ["uvloop"]}')).payload)
        return out

    out = run_with_executor(loop, data_dir, body, force_fallback=True)
    assert out["boto3"] == str(data_dir / "sandbox" / "python-libraries" / "boto3" / "__init__.py")
    assert "imported" not in out
    assert out["user"] == "root"  # this host's user running Lamina


def test_endpoint_in_a_private_network_namespace(loop: Loop, functions: Functions, tmp_path: Path) -> None:
    """With the network namespace on, the function has only its own loopback: the environment binds
    127.0.0.1:<Lamina's port> in there and the server serves its API on that listener."""
    from lamina.app import Lamina
    from lamina.config import Settings
    from lamina.sandbox.settings import SandboxSettings

    spec = functions.spec({"app.py": REPORTER}, timeout_s=30)
    settings = Settings(port=0, data_dir=tmp_path / "data", memory_merge="off", cpu_placement=False)
    app = Lamina(settings, sandbox=SandboxSettings(network_namespace=True))

    async def body() -> dict[str, Any]:
        await app.start()
        try:
            assert app.executor.isolation_report()["namespaces"] == ["mount", "pid", "ipc", "uts", "net"]
            result = await call(app.executor, spec, json.dumps({"call": "netns-queue"}).encode())
            out: dict[str, Any] = json.loads(result.payload)
            out["port"] = app.port
            return out
        finally:
            await app.stop()

    out = loop.run(body())
    assert out["env"]["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{out['port']}"
    assert out["functions"] == []  # Lamina's answer: this server has no function created through its API
    assert out["queue_url"] == f"http://127.0.0.1:{out['port']}/000000000000/netns-queue"


@pytest.mark.parametrize("spares", [0, 2])
def test_both_ways_of_starting_name_the_user_and_ship_boto3(
    loop: Loop, functions: Functions, data_dir: Path, spares: int
) -> None:
    """An environment confined from scratch (no spare) and one forked ahead of time (staged) both get the
    named user and /var/runtime's boto3."""
    spec = functions.spec({"app.py": REPORTER})

    async def body(executor: Executor) -> dict[str, Any]:
        out: dict[str, Any] = json.loads((await call(executor, spec)).payload)
        return out

    out = run_with_executor(loop, data_dir, body, spare_environments=spares)
    assert (out["user"], out["task_owner"], out["tmp_listing"]) == ("sbx_user1051", "root", [])
    assert out["boto3"] == "/var/runtime/boto3/__init__.py"
