"""Invoke through boto3 for every runtime kind (Lamina's Python runtime on python3.12/python3.13, a shell
`bootstrap` on provided.al2023, the official awslambdaric as a custom runtime, Node.js), and concurrency."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import awslambdaric
import pytest

from tests.lambda_api.invoke_support import Deployer, arn, body, doc, log_tail, request_id

HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
STREAM = re.compile(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}")


def invoke(api: Any, name: str, event: Any, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = api.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response


# --- Python ------------------------------------------------------------------------------------------------

PY_INFO = """
import os, sys
def handler(event, context):
    return {"python": "%d.%d" % sys.version_info[:2], "env": os.environ["AWS_EXECUTION_ENV"], "text": "é"}
"""


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13"])
def test_python_runtimes_run_on_the_host_interpreter_and_say_so(api: Any, deployer: Deployer, runtime: str) -> None:
    name = deployer.create({"app.py": PY_INFO}, runtime=runtime)
    response = invoke(api, name, {}, LogType="Tail")
    assert (response["StatusCode"], response["ExecutedVersion"]) == (200, "$LATEST")
    assert (
        body(response)
        == json.dumps({"python": HOST_PYTHON, "env": f"AWS_Lambda_{runtime}", "text": "é"}, ensure_ascii=False).encode()
    )
    tail = log_tail(response)
    assert tail.startswith(f"INIT_START Runtime Version: {runtime}:")
    assert f"runtime {runtime} is not installed on this host; running on Python {HOST_PYTHON}." in tail


# --- provided.al2023 with a shell bootstrap ----------------------------------------------------------------

SHELL_BOOTSTRAP = """
#!/bin/bash
# A custom runtime in shell, as in AWS's tutorial: the handler is "<script>.<function>".
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
echo "bootstrap ready"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  ARN=$(grep -Fi Lambda-Runtime-Invoked-Function-Arn "$HEADERS" | tr -d '[:space:]' | cut -d: -f2-)
  if RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT" "$REQUEST_ID" "$ARN"); then
    curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "$RESPONSE"
  else
    curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/error" \\
      -H "Lambda-Runtime-Function-Error-Type: Function.ShellError" \\
      -d '{"errorMessage":"shell handler failed","errorType":"Function.ShellError"}'
  fi
done
"""

FUNCTION_SH = """
handler () {
  if [ "$1" = '"fail"' ]; then
    return 1
  fi
  echo "handling $2" >&2
  printf '{"received": %s, "id": "%s", "arn": "%s", "exec_env": "%s", "mine": "%s"}' \\
    "$1" "$2" "$3" "${AWS_EXECUTION_ENV:-unset}" "$MINE"
}
"""


def test_provided_shell_bootstrap(api: Any, deployer: Deployer) -> None:
    name = deployer.create(
        {"bootstrap": SHELL_BOOTSTRAP, "function.sh": FUNCTION_SH},
        runtime="provided.al2023",
        handler="function.handler",
        Environment={"Variables": {"MINE": "shell"}},
    )
    response = invoke(api, name, {"x": 1}, LogType="Tail")
    rid = request_id(response)
    assert (response["StatusCode"], response["ExecutedVersion"]) == (200, "$LATEST")
    assert "FunctionError" not in response
    assert doc(response) == {"received": {"x": 1}, "id": rid, "arn": arn(name), "exec_env": "unset", "mine": "shell"}
    lines = log_tail(response).split("\n")
    assert "bootstrap ready" in lines
    assert lines.index(f"START RequestId: {rid} Version: $LATEST") < lines.index(f"handling {rid}")
    assert lines.index(f"handling {rid}") < lines.index(f"END RequestId: {rid}")

    failed = invoke(api, name, "fail")
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    assert doc(failed) == {"errorMessage": "shell handler failed", "errorType": "Function.ShellError"}
    assert doc(invoke(api, name, 2, Qualifier="$LATEST"))["arn"] == arn(name) + ":$LATEST"


def test_provided_without_bootstrap(api: Any, deployer: Deployer) -> None:
    name = deployer.create({"README": "no bootstrap here"}, runtime="provided.al2023", handler="x")
    response = invoke(api, name, {})
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert doc(response) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {request_id(response)} Couldn't find valid bootstrap(s): "
        "[/var/task/bootstrap /opt/bootstrap]",
    }


# --- the official runtime interface client as the function's runtime ---------------------------------------


def awslambdaric_files() -> dict[str, str | bytes]:
    """awslambdaric and what it imports, taken from this venv, to ship inside the function's zip."""
    site = Path(awslambdaric.__file__).parent.parent
    files: dict[str, str | bytes] = {}
    for package in ("awslambdaric", "simplejson"):
        for path in (site / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files[str(path.relative_to(site))] = path.read_bytes()
    for pattern in ("runtime_client*.so", "snapshot_restore_py.py"):
        for path in site.glob(pattern):
            files[path.name] = path.read_bytes()
    return files


RIC_APP = """
import os
count = 0

def handler(event, context):
    global count
    count += 1
    if event == "boom":
        raise ValueError("bad value")
    return {
        "count": count,
        "id": context.aws_request_id,
        "mem": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "stream": context.log_stream_name,
        "handler": os.environ["_HANDLER"],
    }
"""


def test_official_awslambdaric_as_runtime(api: Any, deployer: Deployer) -> None:
    name = deployer.create(
        {
            **awslambdaric_files(),
            "bootstrap": '#!/bin/sh\nexport PYTHONPATH="$LAMBDA_TASK_ROOT"\nexec python3 -m awslambdaric "$_HANDLER"\n',
            "app.py": RIC_APP,
        },
        runtime="provided.al2023",
        MemorySize=256,
    )
    first = invoke(api, name, {})
    assert "FunctionError" not in first, body(first)
    out = doc(first)
    assert STREAM.fullmatch(out.pop("stream"))
    assert out == {"count": 1, "id": request_id(first), "mem": "256", "arn": arn(name), "handler": "app.handler"}
    assert doc(invoke(api, name, {}))["count"] == 2

    failed = invoke(api, name, "boom")
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    assert doc(failed) == {
        "errorMessage": "bad value",
        "errorType": "ValueError",
        "requestId": request_id(failed),
        "stackTrace": ['  File "/var/task/app.py", line 8, in handler\n    raise ValueError("bad value")\n'],
    }
    assert doc(invoke(api, name, {}))["count"] == 4


# --- Node.js -----------------------------------------------------------------------------------------------

NODE_APP = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  console.log("hello", {count});
  if (event.fail) throw new TypeError("it failed");
  return {count, event, id: context.awsRequestId, mem: context.memoryLimitInMB, fn: context.functionName,
          arn: context.invokedFunctionArn, stream: context.logStreamName,
          remaining: context.getRemainingTimeInMillis(), node: process.version,
          execEnv: process.env.AWS_EXECUTION_ENV, mine: process.env.MINE};
};
exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, {via: "callback", event}), 1);
};
"""


def test_nodejs20(api: Any, deployer: Deployer) -> None:
    name = deployer.create(
        {"index.js": NODE_APP},
        runtime="nodejs20.x",
        handler="index.handler",
        Timeout=10,
        Environment={"Variables": {"MINE": "node"}},
    )
    response = invoke(api, name, {"k": [1]}, LogType="Tail")
    rid = request_id(response)
    assert (response["StatusCode"], response["ExecutedVersion"]) == (200, "$LATEST")
    assert "FunctionError" not in response, body(response)
    out = doc(response)
    assert STREAM.fullmatch(out.pop("stream"))
    remaining = out.pop("remaining")
    assert 8000 < remaining <= 10_000
    assert out.pop("node").startswith("v")
    assert out == {
        "count": 1,
        "event": {"k": [1]},
        "id": rid,
        "mem": "128",
        "fn": name,
        "arn": arn(name),
        "execEnv": "AWS_Lambda_nodejs20.x",
        "mine": "node",
    }
    line = next(x for x in log_tail(response).split("\n") if "hello" in x)
    stamp, line_rid, level, message = line.split("\t")
    assert (line_rid, level, message) == (rid, "INFO", "hello { count: 1 }")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert doc(invoke(api, name, {}))["count"] == 2

    failed = invoke(api, name, {"fail": True})
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    error = doc(failed)
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "it failed")
    assert set(error) == {"errorType", "errorMessage", "trace"}  # Node.js: `trace`, not `stackTrace`
    assert error["trace"][0] == "TypeError: it failed"

    callback = deployer.create({"index.js": NODE_APP}, runtime="nodejs20.x", handler="index.callback")
    assert doc(invoke(api, callback, [1])) == {"via": "callback", "event": [1]}


def test_nodejs22_runs_on_the_host_node_and_says_so(api: Any, deployer: Deployer) -> None:
    name = deployer.create({"index.js": NODE_APP}, runtime="nodejs22.x", handler="index.handler")
    response = invoke(api, name, {}, LogType="Tail")
    assert "FunctionError" not in response, body(response)
    out = doc(response)
    assert out["execEnv"] == "AWS_Lambda_nodejs22.x"
    major = out["node"].split(".")[0]
    assert f"runtime nodejs22.x is not installed on this host; running on Node.js {major}." in log_tail(response)


def test_nodejs_init_errors(api: Any, deployer: Deployer) -> None:
    missing = deployer.create({"index.js": NODE_APP}, runtime="nodejs20.x", handler="nothere.handler")
    error = doc(invoke(api, missing, {}))
    assert (error["errorType"], error["errorMessage"]) == (
        "Runtime.ImportModuleError",
        "Error: Cannot find module 'nothere'",
    )
    undefined = deployer.create({"index.js": NODE_APP}, runtime="nodejs20.x", handler="index.nope")
    response = invoke(api, undefined, {})
    assert response["FunctionError"] == "Unhandled"
    error = doc(response)
    assert (error["errorType"], error["errorMessage"]) == (
        "Runtime.HandlerNotFound",
        "index.nope is undefined or not exported",
    )


# --- concurrency -------------------------------------------------------------------------------------------

SLEEPER = """
import time
def handler(event, context):
    time.sleep(event["seconds"])
    return context.log_stream_name
"""


def test_parallel_invokes_run_in_separate_environments(api: Any, deployer: Deployer) -> None:
    sleeper = deployer.create({"app.py": SLEEPER}, Timeout=10)
    other = deployer.create({"app.py": "def handler(event, context):\n    return 'pong'\n"})
    assert body(invoke(api, other, {})) == b'"pong"'

    others: list[float] = []
    done = threading.Event()

    def keep_pinging() -> None:
        while not done.is_set():
            started = time.monotonic()
            assert body(invoke(api, other, {})) == b'"pong"'
            others.append(time.monotonic() - started)
            time.sleep(0.02)

    def sleep_once(_: int) -> tuple[str, str]:
        response = invoke(api, sleeper, {"seconds": 0.5})
        assert "FunctionError" not in response, body(response)
        return doc(response), request_id(response)

    with ThreadPoolExecutor(9) as pool:
        pinger = pool.submit(keep_pinging)
        started = time.monotonic()
        results = list(pool.map(sleep_once, range(8)))
        elapsed = time.monotonic() - started
        done.set()
        pinger.result()

    streams = [stream for stream, _rid in results]
    assert all(STREAM.fullmatch(s) for s in streams)
    assert len(set(streams)) == 8  # eight environments, one request each at a time
    assert len({rid for _stream, rid in results}) == 8
    assert elapsed < 2.5, f"8 parallel 0.5 s invokes took {elapsed:.2f} s"
    assert others and max(others) < 1.0, others  # another function kept answering meanwhile
