"""Lamina's Python runtime through the executor: results, context, variables, logs and every error type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lamina.invoke.executor import Executor
from tests.invoke.harness import Functions, Loop, call

pytestmark = pytest.mark.slow


def run_json(loop: Loop, executor: Executor, spec: Any, payload: bytes = b"{}", **fields: Any) -> Any:
    result = loop.run(call(executor, spec, payload, **fields))
    assert result.function_error is None, result.payload
    return json.loads(result.payload)


def test_returns_json_result(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(event, context):\n    return {'echo': event}\n"})
    assert run_json(loop, executor, spec, b'{"a": [1, 2]}') == {"echo": {"a": [1, 2]}}


def test_bytes_decimal_and_none_results(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": """
            import decimal
            def handler(event, context):
                if event == "bytes":
                    return b"\\x00raw"
                if event == "decimal":
                    return {"d": decimal.Decimal("1.10"), "s": "é"}
                return None
            """
        }
    )
    assert loop.run(call(executor, spec, b'"bytes"')).payload == b"\x00raw"
    assert loop.run(call(executor, spec, b'"decimal"')).payload == b'{"d": 1.10, "s": "\\u00e9"}'
    assert loop.run(call(executor, spec, b'"none"')).payload == b"null"


def test_context_fields(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": """
            def handler(event, context):
                cc = context.client_context
                return {
                    "request_id": context.aws_request_id,
                    "arn": context.invoked_function_arn,
                    "name": context.function_name,
                    "version": context.function_version,
                    "memory": context.memory_limit_in_mb,
                    "group": context.log_group_name,
                    "stream": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis(),
                    "client_custom": cc.custom if cc else None,
                    "client_app": cc.client.app_title if cc and cc.client else None,
                    "cognito": context.identity.cognito_identity_id,
                }
            """
        },
        memory_mb=256,
        timeout_s=7,
    )
    client_context = json.dumps({"custom": {"k": "v"}, "client": {"app_title": "t"}, "env": {}})
    cognito = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool"})
    qualified = spec.function_arn + ":$LATEST"
    out = run_json(
        loop,
        executor,
        spec,
        request_id="req-ctx-1",
        invoked_arn=qualified,
        client_context=client_context,
        cognito_identity=cognito,
    )
    assert out["request_id"] == "req-ctx-1"
    assert out["arn"] == qualified
    assert out["name"] == spec.function_name
    assert out["version"] == "$LATEST"
    assert out["memory"] == "256"
    assert out["group"] == f"/aws/lambda/{spec.function_name}"
    assert out["stream"].endswith("]" + out["stream"].rsplit("]", 1)[1])
    assert "[$LATEST]" in out["stream"]
    assert 5000 < out["remaining"] <= 7000
    assert out["client_custom"] == {"k": "v"}
    assert out["client_app"] == "t"
    assert out["cognito"] == "id-1"


def test_environment_variables(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {"app.py": "import os\ndef handler(event, context):\n    return dict(os.environ)\n"},
        environment=(("MY_VAR", "hello"), ("TZ", ":UTC"), ("AWS_REGION", "overridden?")),
        memory_mb=192,
    )
    env = run_json(loop, executor, spec, trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a;Sampled=1")
    assert env["MY_VAR"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.function_name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{spec.function_name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].split("/")[3].startswith("[$LATEST]")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["PATH"].startswith("/var/lang/bin:")
    assert "/opt/lib" in env["LD_LIBRARY_PATH"]
    assert env["PYTHONPATH"] == "/var/runtime"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-5bef4de7")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert env[key]
    assert "AWS_LAMBDA_FUNCTION_TIMEOUT" not in env


def test_print_and_logging_are_captured_with_tail(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": """
            import logging
            logger = logging.getLogger()
            logger.setLevel(logging.INFO)
            print("at init")
            def handler(event, context):
                print("from print")
                logger.info("from logging %s", 42)
                return 1
            """
        }
    )
    result = loop.run(call(executor, spec, request_id="req-log-1", tail_logs=True))
    assert result.log_tail is not None
    lines = result.log_tail.decode().splitlines()
    start = lines.index("START RequestId: req-log-1 Version: $LATEST")
    assert "at init" in lines[:start]
    assert lines[start + 1] == "from print"
    level, stamp, request_id, message = lines[start + 2].split("\t")
    assert (level, request_id, message) == ("[INFO]", "req-log-1", "from logging 42")
    assert stamp.endswith("Z") and len(stamp) == 24
    assert lines[start + 3] == "END RequestId: req-log-1"
    report = lines[start + 4].split("\t")
    assert report[0] == "REPORT RequestId: req-log-1"
    assert report[1].startswith("Duration: ") and report[1].endswith(" ms")
    assert report[2].startswith("Billed Duration: ")
    assert report[3] == "Memory Size: 128 MB"
    assert report[4].startswith("Max Memory Used: ")
    assert report[5].startswith("Init Duration: ")
    assert report[-1] == ""  # Lambda ends REPORT with a tab
    again = loop.run(call(executor, spec, tail_logs=True))
    assert again.log_tail is not None and b"Init Duration" not in again.log_tail
    assert b"at init" not in again.log_tail
    executor.logs.flush()
    streams = executor.logs.streams(f"/aws/lambda/{spec.function_name}")
    assert len(streams) == 1
    messages = [e.message for e in executor.logs.events(f"/aws/lambda/{spec.function_name}", streams[0].name)]
    assert messages.count("from print") == 2
    assert messages[0].startswith("INIT_START")


def test_handler_exception(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {"app.py": "def handler(event, context):\n    return inner(event)\n\ndef inner(e):\n    return e['action']\n"}
    )
    result = loop.run(call(executor, spec, request_id="req-err-1", tail_logs=True))
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "KeyError"
    assert doc["errorMessage"] == "'action'"
    assert doc["requestId"] == "req-err-1"
    assert doc["stackTrace"][0].startswith('  File "/var/task/app.py", line 2, in handler\n')
    assert len(doc["stackTrace"]) == 2
    assert result.log_tail is not None
    assert "[ERROR] KeyError: 'action'\rTraceback (most recent call last):" in result.log_tail.decode()
    # The environment survives a handled exception.
    assert json.loads(loop.run(call(executor, spec)).payload)["errorType"] == "KeyError"


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"app.py": "import nope_missing\n"}, "app.handler", "Runtime.ImportModuleError",
         "Unable to import module 'app': No module named 'nope_missing'"),
        ({"app.py": "x = 1\n"}, "app.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
        ({"app.py": "x = 1\n"}, "nodots", "Runtime.MalformedHandlerName",
         "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)"),
        ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app': "),
        ({"app.py": "x = 1\n"}, "sys.handler", "Runtime.BuiltInModuleConflict",
         "Cannot use built-in module sys as a handler module"),
    ],
)  # fmt: skip
def test_init_errors(
    loop: Loop, executor: Executor, functions: Functions, files: dict[str, str], handler: str, error_type: str,
    message: str,
) -> None:  # fmt: skip
    spec = functions.spec(files, handler=handler)
    result = loop.run(call(executor, spec, tail_logs=True))
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == error_type
    assert doc["errorMessage"].startswith(message)
    assert doc["requestId"] == ""
    assert result.log_tail is not None
    tail = result.log_tail.decode()
    assert "LAMBDA_WARNING: Unhandled exception." in tail
    assert f"[ERROR] {error_type}: " in tail
    assert "INIT_REPORT Init Duration: " in tail and f"Error Type: {error_type}" in tail
    # Init failed: a later invoke tries again (and fails again), it does not hang on a dead environment.
    assert json.loads(loop.run(call(executor, spec)).payload)["errorType"] == error_type


def test_marshal_and_unmarshal_errors(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(event, context):\n    return {1, 2}\n"})
    doc = json.loads(loop.run(call(executor, spec)).payload)
    assert doc["errorType"] == "Runtime.MarshalError"
    assert doc["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    doc = json.loads(loop.run(call(executor, spec, b"{not json")).payload)
    assert doc["errorType"] == "Runtime.UnmarshalError"
    assert doc["errorMessage"].startswith("Unable to unmarshal input: Expecting property name")


def test_response_too_large(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(event, context):\n    return 'x' * 7_000_000\n"})
    result = loop.run(call(executor, spec))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }


def test_exit_during_invoke_is_runtime_exit_error(loop: Loop, executor: Executor, functions: Functions) -> None:
    spec = functions.spec(
        {
            "app.py": "import sys\ndef handler(event, context):\n"
            "    if event == 'exit':\n        sys.exit(3)\n    return 'ok'\n"
        }
    )
    result = loop.run(call(executor, spec, b'"exit"', request_id="req-exit"))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3",
    }
    assert loop.run(call(executor, spec, b'"fine"')).payload == b'"ok"'


def test_newer_runtime_name_runs_on_host_python_and_says_so(
    loop: Loop, executor: Executor, functions: Functions
) -> None:
    spec = functions.spec(
        {
            "app.py": "import sys, os\ndef handler(e, c):\n"
            "    return [sys.version_info[:2], os.environ['AWS_EXECUTION_ENV']]\n"
        },
        runtime="python3.13",
    )
    result = loop.run(call(executor, spec, tail_logs=True))
    assert json.loads(result.payload) == [[3, 11], "AWS_Lambda_python3.13"]
    assert result.log_tail is not None
    assert b"runtime python3.13 is not installed on this host; running on Python 3.11" in result.log_tail
    # python3.12+ emit non-ASCII unescaped, as the official client does for those runtimes.
    spec2 = functions.spec({"app.py": "def handler(e, c):\n    return 'é'\n"}, runtime="python3.13")
    assert loop.run(call(executor, spec2)).payload == '"é"'.encode()
