"""Every runtime kind speaks the Runtime API: the official awslambdaric, a shell `bootstrap`, Node.js."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import awslambdaric
import pytest

from lamina.invoke.executor import Executor
from tests.invoke.harness import Functions, Loop, call

pytestmark = pytest.mark.slow

CURL_BOOTSTRAP = """
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
  if RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT"); then
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
  EVENT_DATA=$1
  if [ "$EVENT_DATA" = '"fail"' ]; then
    return 1
  fi
  echo "{\\"received\\": $EVENT_DATA, \\"user\\": \\"$(id -u)\\", \\"provided\\": \\"${AWS_EXECUTION_ENV:-unset}\\"}"
}
"""


def test_provided_shell_bootstrap(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {"bootstrap": CURL_BOOTSTRAP, "function.sh": FUNCTION_SH}, handler="function.handler",
        runtime="provided.al2023",
    )  # fmt: skip
    result = loop.run(call(executor, spec, b'{"x": 1}', tail_logs=True))
    assert result.function_error is None, result.payload
    out = json.loads(result.payload)
    assert out["received"] == {"x": 1}
    assert out["user"] != "0"
    assert out["provided"] == "unset"  # no AWS_EXECUTION_ENV for provided runtimes
    assert result.log_tail is not None and b"bootstrap ready" in result.log_tail
    failed = loop.run(call(executor, spec, b'"fail"'))
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload)["errorType"] == "Function.ShellError"
    assert json.loads(loop.run(call(executor, spec, b"2")).payload)["received"] == 2


def test_provided_without_bootstrap(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"README": "no bootstrap here"}, handler="x", runtime="provided.al2")
    result = loop.run(call(executor, spec, request_id="req-nb"))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": "RequestId: req-nb Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    }


def awslambdaric_layer(root: Path) -> Path:
    """The official runtime interface client and its dependencies, as a layer (/opt/python)."""
    site = Path(awslambdaric.__file__).parent.parent
    target = root / "python"
    target.mkdir(parents=True)
    for name in ("awslambdaric", "simplejson"):
        shutil.copytree(site / name, target / name)
    for pattern in ("runtime_client*.so", "snapshot_restore_py.py"):
        for path in site.glob(pattern):
            shutil.copy(path, target / path.name)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def test_official_awslambdaric_as_runtime(loop: Loop, executor: Executor, functions: Functions, tmp_path: Path) -> None:
    layer = awslambdaric_layer(tmp_path / "ric")
    spec = functions.spec(
        {
            "bootstrap": "#!/bin/sh\nexport PYTHONPATH=/opt/python\n"
            'exec /var/lang/bin/python3 -m awslambdaric "$_HANDLER"\n',
            "app.py": """
            count = 0
            def handler(event, context):
                global count
                count += 1
                if event == "boom":
                    raise ValueError("bad value")
                return {"count": count, "id": context.aws_request_id, "mem": context.memory_limit_in_mb}
            """,
        },
        runtime="provided.al2023",
        layer_dirs=(layer,),
    )
    first = loop.run(call(executor, spec, request_id="ric-1"))
    assert first.function_error is None, first.payload
    assert json.loads(first.payload) == {"count": 1, "id": "ric-1", "mem": "128"}
    assert json.loads(loop.run(call(executor, spec)).payload)["count"] == 2
    failed = loop.run(call(executor, spec, b'"boom"', request_id="ric-3"))
    assert failed.function_error == "Unhandled"
    doc = json.loads(failed.payload)
    assert (doc["errorType"], doc["errorMessage"], doc["requestId"]) == ("ValueError", "bad value", "ric-3")
    assert 'File "/var/task/app.py"' in doc["stackTrace"][0]


NODE_APP = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  console.log("hello", {count});
  if (event.fail) throw new TypeError("it failed");
  return {count, id: context.awsRequestId, mem: context.memoryLimitInMB, fn: context.functionName,
          remaining: context.getRemainingTimeInMillis() > 0, node: process.version};
};
exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, {via: "callback", event}), 1);
};
exports.nested = {deep: async () => "deep"};
"""


def test_nodejs_handlers(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"index.js": NODE_APP}, handler="index.handler", runtime="nodejs20.x")
    result = loop.run(call(executor, spec, request_id="node-1", tail_logs=True))
    assert result.function_error is None, result.payload
    out = json.loads(result.payload)
    assert out["count"] == 1 and out["id"] == "node-1" and out["mem"] == "128"
    assert out["fn"] == spec.function_name and out["remaining"] is True
    assert result.log_tail is not None
    line = next(x for x in result.log_tail.decode().splitlines() if "hello" in x)
    stamp, request_id, level, message = line.split("\t")
    assert (request_id, level, message) == ("node-1", "INFO", "hello { count: 1 }")
    assert stamp.endswith("Z")
    assert json.loads(loop.run(call(executor, spec)).payload)["count"] == 2

    failed = loop.run(call(executor, spec, b'{"fail": true}'))
    assert failed.function_error == "Unhandled"
    doc = json.loads(failed.payload)
    assert doc["errorType"] == "TypeError" and doc["errorMessage"] == "it failed"
    assert doc["trace"][0] == "TypeError: it failed"

    cb = functions.spec({"index.js": NODE_APP}, handler="index.callback", runtime="nodejs20.x")
    assert json.loads(loop.run(call(executor, cb, b"[1]")).payload) == {"via": "callback", "event": [1]}
    nested = functions.spec({"index.js": NODE_APP}, handler="index.nested.deep", runtime="nodejs20.x")
    assert loop.run(call(executor, nested)).payload == b'"deep"'


def test_nodejs_init_errors(loop: Loop, executor: Executor, functions: Functions) -> None:
    missing = functions.spec({"index.js": NODE_APP}, handler="nothere.handler", runtime="nodejs20.x")
    doc = json.loads(loop.run(call(executor, missing)).payload)
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert doc["errorMessage"] == "Error: Cannot find module 'nothere'"
    undefined = functions.spec({"index.js": NODE_APP}, handler="index.nope", runtime="nodejs20.x")
    doc = json.loads(loop.run(call(executor, undefined)).payload)
    assert doc == {
        **doc,
        "errorType": "Runtime.HandlerNotFound",
        "errorMessage": "index.nope is undefined or not exported",
    }


def test_nodejs_runtime_name_newer_than_host(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"index.js": NODE_APP}, handler="index.handler", runtime="nodejs22.x")
    result = loop.run(call(executor, spec, tail_logs=True))
    assert json.loads(result.payload)["node"].startswith("v20.")
    assert result.log_tail is not None
    assert b"runtime nodejs22.x is not installed on this host; running on Node.js v20." in result.log_tail


def test_unsupported_runtime(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"Main.java": ""}, handler="Main::handle", runtime="java21")
    result = loop.run(call(executor, spec))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Runtime.InvalidRuntime"
