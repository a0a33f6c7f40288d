"""Invoke through boto3 against a real `lamina serve`, as users call it: payloads, error documents, request
errors, logs, the context object, environment variables and environment reuse (python3.12 functions).

Other runtime kinds and concurrency: test_invoke_runtimes.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.lambda_api.invoke_support import (
    Deployer,
    arn,
    body,
    client,
    client_context,
    doc,
    log_tail,
    package,
    request_id,
    wait_active,
)

APP = """
import decimal
import logging
import os
import time

logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("init output")
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    action = event.get("action") if isinstance(event, dict) else None
    if action == "none":
        return None
    if action == "string":
        return "héllo"
    if action == "bytes":
        return b"\\x00\\xffraw"
    if action == "decimal":
        return {"d": decimal.Decimal("1.10")}
    if action == "raise":
        return fail(event)
    if action == "marshal":
        return {1, 2}
    if action == "big":
        return "x" * event.get("n", 7_000_000)
    if action == "log":
        print("from print")
        logger.info("from logging %s", 42)
        return "logged"
    if action == "context":
        cc = context.client_context
        return {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env},
        }
    if action == "env":
        return dict(os.environ)
    if action == "state":
        with open("/tmp/state.txt", "a") as f:
            f.write("x")
        with open("/tmp/state.txt") as f:
            return {"count": COUNT, "tmp": f.read(), "var": os.environ.get("MY_VAR"), "stream": context.log_stream_name}
    if action == "sleep":
        time.sleep(event["seconds"])
        return context.log_stream_name
    return {"echo": event}


def fail(event):
    raise ValueError("bad value: " + event["detail"])
"""

# The line numbers of the two frames `raise` produces (checked against APP below).
HANDLER_FAIL_LINE = APP.lstrip("\n").splitlines().index("        return fail(event)") + 1
FAIL_RAISE_LINE = APP.lstrip("\n").splitlines().index('    raise ValueError("bad value: " + event["detail"])') + 1

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?"
    r"(?:Status: (?P<status>\w+)\t(?:Error Type: (?P<error_type>[\w.]+)\t)?)?"
)


@pytest.fixture(scope="module")
def app_fn(deployer: Deployer) -> str:
    """One shared python3.12 function for everything that does not break or reconfigure its environment."""
    return deployer.create(
        {"app.py": APP}, Timeout=30, Environment={"Variables": {"MY_VAR": "mine", "OTHER": "two words"}}
    )


def invoke(api: Any, name: str, event: Any = None, **kwargs: Any) -> dict[str, Any]:
    if event is not None:
        kwargs["Payload"] = json.dumps(event).encode()
    response: dict[str, Any] = api.invoke(FunctionName=name, **kwargs)
    return response


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response: Any = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


# --- success payloads -------------------------------------------------------------------------------------


def test_json_result(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"a": [1, 2.5, None], "b": "ü"})
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert "LogResult" not in response
    assert doc(response) == {"echo": {"a": [1, 2.5, None], "b": "ü"}}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("none", b"null"),
        ("string", '"héllo"'.encode()),  # python3.12+ emit non-ASCII unescaped
        ("bytes", b"\x00\xffraw"),  # bytes are sent as they are
        ("decimal", b'{"d": 1.10}'),
    ],
)
def test_result_marshalling(api: Any, app_fn: str, action: str, expected: bytes) -> None:
    response = invoke(api, app_fn, {"action": action})
    assert (response["StatusCode"], response["ExecutedVersion"]) == (200, "$LATEST")
    assert "FunctionError" not in response
    assert body(response) == expected


def test_no_payload_is_an_empty_object(api: Any, app_fn: str) -> None:
    assert doc(api.invoke(FunctionName=app_fn)) == {"echo": {}}


@pytest.mark.parametrize("event", [[1, "two"], "text", 42, None, True])
def test_any_json_event(api: Any, app_fn: str, event: Any) -> None:
    assert doc(api.invoke(FunctionName=app_fn, Payload=json.dumps(event).encode())) == {"echo": event}


def test_function_addressed_by_arn_and_qualifier(api: Any, app_fn: str) -> None:
    partial = f"000000000000:function:{app_fn}"
    for name, qualifier in [(arn(app_fn), None), (partial, None), (f"{app_fn}:$LATEST", None), (app_fn, "$LATEST")]:
        extra = {"Qualifier": qualifier} if qualifier else {}
        response = invoke(api, name, {"k": 1}, **extra)
        assert (response["StatusCode"], response["ExecutedVersion"], doc(response)) == (
            200,
            "$LATEST",
            {"echo": {"k": 1}},
        )


# --- function errors: HTTP 200 + FunctionError Unhandled + an error document ------------------------------------


def test_handler_exception_document(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"action": "raise", "detail": "d1"}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ExecutedVersion"] == "$LATEST"
    error = doc(response)
    stack = error.pop("stackTrace")
    assert error == {"errorMessage": "bad value: d1", "errorType": "ValueError", "requestId": request_id(response)}
    assert [frame.split("\n")[:2] for frame in stack] == [
        [f'  File "/var/task/app.py", line {HANDLER_FAIL_LINE}, in handler', "    return fail(event)"],
        [
            f'  File "/var/task/app.py", line {FAIL_RAISE_LINE}, in fail',
            '    raise ValueError("bad value: " + event["detail"])',
        ],
    ]
    tail = log_tail(response)
    assert "[ERROR] ValueError: bad value: d1\rTraceback (most recent call last):" in tail
    # A handled exception leaves the environment usable.
    assert doc(invoke(api, app_fn, {"x": 1})) == {"echo": {"x": 1}}


def test_handler_exception_stack_trace_exact(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"action": "raise", "detail": "d2"})
    assert doc(response)["stackTrace"] == [
        f'  File "/var/task/app.py", line {HANDLER_FAIL_LINE}, in handler\n    return fail(event)\n',
        f'  File "/var/task/app.py", line {FAIL_RAISE_LINE}, in fail\n'
        '    raise ValueError("bad value: " + event["detail"])\n',
    ]


def test_marshal_error(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"action": "marshal"})
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert doc(response) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": request_id(response),
        "stackTrace": [],
    }


def test_response_size_boundary(api: Any, app_fn: str) -> None:
    limit = 6_291_556  # 6 MiB + 100 bytes
    at_limit = invoke(api, app_fn, {"action": "big", "n": limit - 2})  # a JSON string of exactly `limit` bytes
    assert "FunctionError" not in at_limit
    assert len(body(at_limit)) == limit
    over = invoke(api, app_fn, {"action": "big", "n": limit - 1})
    assert over["FunctionError"] == "Unhandled"
    assert doc(over)["errorType"] == "Function.ResponseSizeTooLarge"


def test_response_too_large(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"action": "big"})
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert doc(response) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    assert doc(invoke(api, app_fn, {"after": "big"})) == {"echo": {"after": "big"}}


INIT_ERRORS = [
    pytest.param(
        {"app.py": "import nope_missing\n"},
        "app.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'app': No module named 'nope_missing'",
        id="import",
    ),
    pytest.param(
        {"app.py": "x = 1\n"},
        "app.handler",
        "Runtime.HandlerNotFound",
        "Handler 'handler' missing on module 'app'",
        id="handler-not-found",
    ),
    pytest.param(
        {"app.py": "x = 1\n"},
        "nodots",
        "Runtime.MalformedHandlerName",
        "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)",
        id="malformed-handler",
    ),
    pytest.param(
        {"app.py": "def handler(event, context):\n    return (\n"},
        "app.handler",
        "Runtime.UserCodeSyntaxError",
        "Syntax error in module 'app': '(' was never closed (app.py, line 2)",
        id="syntax",
    ),
]


@pytest.mark.parametrize(("files", "handler", "error_type", "message"), INIT_ERRORS)
def test_init_error_documents(
    api: Any, deployer: Deployer, files: dict[str, str], handler: str, error_type: str, message: str
) -> None:
    name = deployer.create(dict(files), handler=handler)
    for attempt in range(2):  # init fails again on the next invoke, it does not hang on a dead environment
        response = invoke(api, name, {}, LogType="Tail")
        assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
        error = doc(response)
        stack = error.pop("stackTrace")
        assert error == {"errorMessage": message, "errorType": error_type, "requestId": ""}, attempt
        assert isinstance(stack, list)
        tail = log_tail(response)
        assert "LAMBDA_WARNING: Unhandled exception." in tail
        assert f"[ERROR] {error_type}: {message}" in tail
        assert re.search(
            rf"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: \w+\tStatus: error\tError Type: {error_type}", tail
        )


# --- request errors: the function does not run -----------------------------------------------------------------


def test_invalid_json_payload(api: Any, app_fn: str) -> None:
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Payload=b"{not json")
    status, code, message = error_of(info)
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message.startswith("Could not parse request body into json: Could not parse payload into json: ")


def test_payload_size_limit(api: Any, app_fn: str) -> None:
    limit = 6_291_456
    at_limit = json.dumps("y" * (limit - 2)).encode()
    assert len(at_limit) == limit
    response = api.invoke(FunctionName=app_fn, Payload=at_limit)
    assert "FunctionError" not in response
    assert len(body(response)) == limit + len(b'{"echo": }')
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Payload=json.dumps("y" * (limit - 1)).encode())
    status, code, message = error_of(info)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert message.startswith("Request must be smaller than 6291456 bytes for the ")


def test_payload_too_large_message(api: Any, app_fn: str) -> None:
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Payload=b'"' + b"y" * 6_291_456 + b'"')
    assert error_of(info) == (
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )


def test_payload_not_utf8(api: Any, app_fn: str) -> None:
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Payload=b'"\xff\xfe"')
    status, code, _message = error_of(info)
    assert (status, code) == (400, "InvalidRequestContentException")


def test_dry_run(api: Any, app_fn: str) -> None:
    before = doc(invoke(api, app_fn, {"action": "state"}))["count"]
    response = invoke(api, app_fn, {"action": "state"}, InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert body(response) == b""
    assert "FunctionError" not in response
    assert doc(invoke(api, app_fn, {"action": "state"}))["count"] == before + 1  # the dry run did not run it


def test_content_type_by_invocation_type(api: Any, app_fn: str) -> None:
    """AWS labels a synchronous invoke's answer (the function's result or its error document) as JSON; the
    empty 202 of an Event invoke and the 204 of a DryRun carry no Content-Type."""

    def content_type(response: dict[str, Any]) -> str | None:
        value: str | None = response["ResponseMetadata"]["HTTPHeaders"].get("content-type")
        return value

    assert content_type(invoke(api, app_fn, {"action": "string"})) == "application/json"
    failed = invoke(api, app_fn, {"action": "raise"})
    assert failed["FunctionError"] == "Unhandled" and content_type(failed) == "application/json"
    assert content_type(invoke(api, app_fn, {}, Qualifier="$LATEST", LogType="Tail")) == "application/json"
    event = invoke(api, app_fn, {}, InvocationType="Event")
    assert event["StatusCode"] == 202 and content_type(event) is None
    dry = invoke(api, app_fn, {}, InvocationType="DryRun")
    assert dry["StatusCode"] == 204 and content_type(dry) is None


def test_missing_function_and_qualifier(api: Any, app_fn: str) -> None:
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName="inv-does-not-exist", Payload=b"{}")
    assert error_of(info) == (  # Invoke names the version it looked for, unlike GetFunction
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('inv-does-not-exist')}:$LATEST",
    )
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName="inv-does-not-exist", InvocationType="DryRun")
    assert error_of(info)[:2] == (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Qualifier="99", Payload=b"{}")
    assert error_of(info) == (404, "ResourceNotFoundException", f"Function not found: {arn(app_fn)}:99")


@pytest.mark.slow
def test_invoke_while_pending_is_409(fresh_lamina: Any) -> None:
    server = fresh_lamina("--state-transition-delay", "2")
    api = client(server)
    deployer = Deployer(api)
    name = deployer.create({"app.py": "def handler(event, context):\n    return 'ran'\n"}, wait=False)
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=name, Payload=b"{}")
    assert error_of(info) == (
        409,
        "ResourceConflictException",
        f"The operation cannot be performed at this time. The resource {arn(name)} is currently in the following "
        "state: 'Pending'. StateReasonCode: 'Creating'",
    )
    wait_active(api, name)
    assert body(api.invoke(FunctionName=name)) == b'"ran"'


def test_invalid_client_context(api: Any, app_fn: str) -> None:
    with pytest.raises(ClientError) as info:
        api.invoke(FunctionName=app_fn, Payload=b"{}", ClientContext="not base64 json!")
    assert error_of(info) == (
        400,
        "InvalidRequestContentException",
        "Client context must be a valid Base64-encoded JSON object.",
    )


# --- logs -------------------------------------------------------------------------------------------------------


def test_log_tail_first_and_later_invokes(api: Any, deployer: Deployer) -> None:
    name = deployer.create({"app.py": APP}, MemorySize=256)
    first = invoke(api, name, {"action": "log"}, LogType="Tail")
    assert body(first) == b'"logged"'
    rid = request_id(first)
    lines = log_tail(first).split("\n")
    assert lines[0].startswith("INIT_START Runtime Version: ")
    assert "init output" in lines
    start = lines.index(f"START RequestId: {rid} Version: $LATEST")
    assert lines[start + 1] == "from print"
    level, stamp, line_rid, message = lines[start + 2].split("\t")
    assert (level, line_rid, message) == ("[INFO]", rid, "from logging 42")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert lines[start + 3] == f"END RequestId: {rid}"
    report = REPORT.fullmatch(lines[start + 4])
    assert report is not None, lines[start + 4]
    assert report["id"] == rid and report["memory"] == "256"
    assert report["init"] is not None and report["status"] is None
    assert int(report["billed"]) >= float(report["duration"])
    assert 0 < int(report["used"]) <= 256
    assert lines[start + 5 :] == [""]

    second = invoke(api, name, {"action": "log"}, LogType="Tail")
    rid2 = request_id(second)
    lines2 = log_tail(second).split("\n")
    assert lines2[:4] == [
        f"START RequestId: {rid2} Version: $LATEST",
        "from print",
        lines2[2],
        f"END RequestId: {rid2}",
    ]
    report2 = REPORT.fullmatch(lines2[4])
    assert report2 is not None and report2["id"] == rid2
    assert report2["init"] is None  # Init Duration only on an environment's first invoke
    assert int(report2["billed"]) == max(1, -(-float(report2["duration"]) // 1))  # rounded up to the next ms
    assert "init output" not in lines2

    assert "LogResult" not in invoke(api, name, {"action": "log"})  # LogType None: no log


def test_log_tail_is_the_last_4kb(api: Any, deployer: Deployer) -> None:
    name = deployer.create(
        {"app.py": "def handler(event, context):\n    for i in range(500):\n        print(f'line {i:04d}')\n"}
    )
    response = invoke(api, name, {}, LogType="Tail")
    raw = log_tail(response).encode()
    assert len(raw) <= 4096
    assert "line 0499" in raw.decode()
    assert "line 0000" not in raw.decode()
    assert raw.decode().rstrip("\t\n").split("\n")[-1].startswith(f"REPORT RequestId: {request_id(response)}")


# --- the context object and environment variables -------------------------------------------------------------


def test_context_object(api: Any, app_fn: str) -> None:
    response = invoke(
        api,
        app_fn,
        {"action": "context"},
        ClientContext=client_context({"custom": {"k": "v", "n": 1}, "env": {"platform": "test"}, "client": {}}),
    )
    ctx = doc(response)
    stream = ctx.pop("log_stream_name")
    remaining = ctx.pop("remaining")
    assert ctx == {
        "function_name": app_fn,
        "function_version": "$LATEST",
        "invoked_function_arn": arn(app_fn),
        "memory_limit_in_mb": "128",
        "aws_request_id": request_id(response),  # on AWS the invoke's x-amzn-RequestId is the function's request id
        "log_group_name": f"/aws/lambda/{app_fn}",
        "client_context": {"custom": {"k": "v", "n": 1}, "env": {"platform": "test"}},
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    assert 25_000 < remaining <= 30_000


def test_context_without_client_context_and_qualified_arn(api: Any, app_fn: str) -> None:
    ctx = doc(invoke(api, app_fn, {"action": "context"}, Qualifier="$LATEST"))
    assert ctx["client_context"] is None
    assert ctx["invoked_function_arn"] == arn(app_fn) + ":$LATEST"  # the ARN as invoked
    assert (
        doc(invoke(api, f"{app_fn}:$LATEST", {"action": "context"}))["invoked_function_arn"] == arn(app_fn) + ":$LATEST"
    )


def test_environment_variables(api: Any, app_fn: str) -> None:
    response = invoke(api, app_fn, {"action": "env"})
    env = doc(response)
    stream = doc(invoke(api, app_fn, {"action": "context"}))["log_stream_name"]
    assert env["MY_VAR"] == "mine" and env["OTHER"] == "two words"
    expected = {
        "AWS_LAMBDA_FUNCTION_NAME": app_fn,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "app.handler",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{app_fn}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }
    assert {k: env.get(k) for k in expected} == expected
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == stream  # the same environment served both invokes
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert env[key]
    assert "AWS_LAMBDA_FUNCTION_TIMEOUT" not in env


# --- environment reuse and updates ---------------------------------------------------------------------------


def test_environment_reuse_then_update_configuration_and_code(api: Any, deployer: Deployer) -> None:
    name = deployer.create({"app.py": APP}, Environment={"Variables": {"MY_VAR": "one"}})
    first = doc(invoke(api, name, {"action": "state"}))
    second = doc(invoke(api, name, {"action": "state"}))
    assert (first["count"], first["tmp"], first["var"]) == (1, "x", "one")
    assert (second["count"], second["tmp"], second["stream"]) == (2, "xx", first["stream"])  # same environment

    api.update_function_configuration(FunctionName=name, Environment={"Variables": {"MY_VAR": "two"}})
    wait_active(api, name)
    third = doc(invoke(api, name, {"action": "state"}))
    assert (third["count"], third["var"]) == (1, "two")  # a fresh environment with the new configuration
    assert third["stream"] != first["stream"]

    api.update_function_code(
        FunctionName=name,
        ZipFile=package(
            {"app.py": "import os\ndef handler(event, context):\n    return ['v2', os.environ['MY_VAR']]\n"}
        ),
    )
    wait_active(api, name)
    assert doc(invoke(api, name, {})) == ["v2", "two"]


# --- failures that end the environment ------------------------------------------------------------------------

CRASHY = """
import sys
import time
import uuid

TOKEN = uuid.uuid4().hex  # new in each runtime process

def handler(event, context):
    if event == "exit":
        sys.exit(3)
    if event == "sleep":
        time.sleep(5)
    if event == "oom":
        hog = b"\\x01" * (300 << 20)
        return len(hog)
    return {"ok": TOKEN}
"""


@pytest.fixture(scope="module")
def crashy_fn(deployer: Deployer) -> str:
    return deployer.create({"app.py": CRASHY}, Timeout=1, MemorySize=128)


def test_exit_error(api: Any, crashy_fn: str) -> None:
    before = doc(invoke(api, crashy_fn, "fine"))["ok"]
    response = invoke(api, crashy_fn, "exit", LogType="Tail")
    rid = request_id(response)
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert doc(response) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    lines = log_tail(response).split("\n")
    assert f"RequestId: {rid} Error: Runtime exited with error: exit status 3" in lines
    report = next(m for line in lines if (m := REPORT.fullmatch(line)))
    assert (report["id"], report["status"], report["error_type"]) == (rid, "error", "Runtime.ExitError")
    assert doc(invoke(api, crashy_fn, "fine"))["ok"] != before  # a new runtime process


@pytest.mark.slow
def test_timeout(api: Any, crashy_fn: str) -> None:
    response = invoke(api, crashy_fn, "sleep", LogType="Tail")
    rid = request_id(response)
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert doc(response) == {
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    reports = [m for line in log_tail(response).split("\n") if (m := REPORT.fullmatch(line))]
    assert len(reports) == 1 and reports[0]["status"] == "timeout"
    assert 1000.0 <= float(reports[0]["duration"]) < 1500.0
    assert "ok" in doc(invoke(api, crashy_fn, "fine"))


@pytest.mark.slow
def test_out_of_memory(api: Any, crashy_fn: str) -> None:
    response = invoke(api, crashy_fn, "oom", LogType="Tail")
    rid = request_id(response)
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    error = doc(response)
    assert error["errorMessage"] == f"RequestId: {rid} Error: Runtime exited with error: signal: killed"
    assert error["errorType"] in ("Runtime.ExitError", "Runtime.OutOfMemory")
    report = next(m for line in log_tail(response).split("\n") if (m := REPORT.fullmatch(line)))
    assert (report["id"], report["status"], report["error_type"]) == (rid, "error", "Runtime.OutOfMemory")
    assert 120 <= int(report["used"]) <= 128
    assert "ok" in doc(invoke(api, crashy_fn, "fine"))  # the next invoke gets a working environment
