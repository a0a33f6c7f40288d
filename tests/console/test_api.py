"""The console's JSON API over plain HTTP: what the pages rely on, against a real Lamina."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
import zipfile
from typing import Any

from tests.conftest import make_zip
from tests.console.conftest import console_api
from tests.server import ROLE, LaminaProcess


def _create(lambda_client: Any, name: str, files: dict[str, str | bytes] | None = None) -> None:
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip(files)}
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)


def _get(lamina: LaminaProcess, path: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(f"{lamina.url}{path}", timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def test_pages_and_assets_are_served_with_a_strict_policy(lamina: LaminaProcess) -> None:
    for path in ("/console/", "/console/functions/anything/test", "/console/create"):
        status, headers, body = _get(lamina, path)
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")
        assert b'src="/console/static/main.js"' in body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
    status, headers, body = _get(lamina, "/console/static/main.js")
    assert (status, headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert b"export async function route" in body


def test_assets_outside_the_static_folder_are_not_served(lamina: LaminaProcess) -> None:
    request = urllib.request.Request(f"{lamina.url}/console/static/%2e%2e/api.py")
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("served a file outside static/")
    except urllib.error.HTTPError as error:
        assert error.code == 404


def test_function_list_filters_and_pages(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    names = [f"{fn_name}-{i}" for i in range(3)]
    for name in names:
        _create(lambda_client, name)
    status, page = console_api(lamina, f"functions?q={fn_name.upper()}&start=1&limit=1")
    assert status == 200
    assert page["total"] == 3
    assert [f["FunctionName"] for f in page["functions"]] == [names[1]]
    assert page["functions"][0]["Runtime"] == "python3.12"
    assert page["functions"][0]["MemorySize"] == 128


def test_call_passes_aws_errors_through(lamina: LaminaProcess, fn_name: str) -> None:
    status, body = console_api(lamina, "call/lambda/GetFunction", {"FunctionName": fn_name})
    assert status == 404
    assert body["__type"] == "ResourceNotFoundException"
    assert body["message"] == f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{fn_name}"


def test_call_refuses_operations_outside_the_console(lamina: LaminaProcess, fn_name: str) -> None:
    status, body = console_api(lamina, "call/lambda/DeleteAlias", {"FunctionName": fn_name, "Name": "x"})
    assert (status, body["__type"]) == (403, "AccessDeniedException")
    status, body = console_api(lamina, "call/sqs/DeleteQueue", {"QueueUrl": "x"})
    assert status == 403


def test_memory_out_of_range_is_refused_and_nothing_changes(
    lamina: LaminaProcess, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    status, body = console_api(
        lamina, "call/lambda/UpdateFunctionConfiguration", {"FunctionName": fn_name, "MemorySize": 64, "Timeout": 9}
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must have value greater than or equal to 128" in body["message"]
    config = lambda_client.get_function_configuration(FunctionName=fn_name)
    assert (config["MemorySize"], config["Timeout"]) == (128, 3)


def test_source_and_deploy_replace_only_the_handler_file(
    lamina: LaminaProcess, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name, {"app.py": "def handler(e, c):\n    return 1\n", "data/x.bin": b"\x00\x01"})
    status, source = console_api(lamina, f"functions/{fn_name}/source")
    assert status == 200
    assert source["file"] == "app.py"
    assert source["source"] == "def handler(e, c):\n    return 1\n"
    assert sorted(source["files"]) == ["app.py", "data/x.bin"]
    status, _config = console_api(
        lamina, f"functions/{fn_name}/source", {"file": "app.py", "source": "def handler(e, c):\n    return 2\n"}
    )
    assert status == 200
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    assert lambda_client.invoke(FunctionName=fn_name)["Payload"].read() == b"2"
    location = lambda_client.get_function(FunctionName=fn_name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=30) as response:
        package = zipfile.ZipFile(io.BytesIO(response.read()))
    assert package.read("data/x.bin") == b"\x00\x01"


def test_a_zip_the_api_rejects_changes_nothing(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    before = lambda_client.get_function_configuration(FunctionName=fn_name)["CodeSha256"]
    status, body = console_api(
        lamina,
        "call/lambda/UpdateFunctionCode",
        {"FunctionName": fn_name, "ZipFile": base64.b64encode(b"not a zip").decode()},
    )
    assert (status, body["__type"]) == (400, "InvalidParameterValueException")
    assert "Could not unzip uploaded file" in body["message"]
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["CodeSha256"] == before


def test_test_run_returns_response_figures_and_log_tail(
    lamina: LaminaProcess, lambda_client: Any, fn_name: str
) -> None:
    source = "def handler(event, context):\n    print('got', event)\n    return event\n"
    _create(lambda_client, fn_name, {"app.py": source})
    status, result = console_api(lamina, f"functions/{fn_name}/test", {"event": '{"a": 1}'})
    assert status == 200
    assert json.loads(result["response"]) == {"a": 1}
    assert result["functionError"] is None
    assert "got {'a': 1}" in result["logTail"]
    assert result["memorySize"] == 128
    for figure in ("duration", "billedDuration", "maxMemoryUsed"):
        assert result[figure] > 0
    assert result["billedDuration"] >= result["duration"]


def test_test_run_with_invalid_json_is_invokes_error(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    status, body = console_api(lamina, f"functions/{fn_name}/test", {"event": "{nope"})
    assert (status, body["__type"]) == (400, "InvalidRequestContentException")
    assert body["message"].startswith("Could not parse request body into json")


def test_saved_test_events_are_kept_across_a_restart(fresh_lamina: Any, fn_name: str) -> None:
    server = fresh_lamina()
    _create(server.client(), fn_name)
    status, body = console_api(server, f"functions/{fn_name}/test-events/First", {"event": '{"x": 1}'}, "PUT")
    assert (status, body) == (200, {"events": {"First": '{"x": 1}'}})
    status, body = console_api(server, f"functions/{fn_name}/test-events/bad%20name!", {"event": "{}"}, "PUT")
    assert (status, body["__type"]) == (400, "InvalidParameterValueException")
    status, body = console_api(server, f"functions/{fn_name}/test-events/Second", {"event": "{oops"}, "PUT")
    assert (status, body["__type"]) == (400, "InvalidParameterValueException")
    server.kill()  # kill -9: what was answered is committed
    server = fresh_lamina(data_dir=server.data_dir)
    status, body = console_api(server, f"functions/{fn_name}/test-events")
    assert (status, body) == (200, {"events": {"First": '{"x": 1}'}})
    status, body = console_api(server, f"functions/{fn_name}/test-events/First", method="DELETE")
    assert (status, body) == (200, {"events": {}})


def test_blueprints_create_working_functions(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    status, listed = console_api(lamina, "blueprints")
    ids = {b["id"] for b in listed["blueprints"]}
    assert {"hello-python", "hello-node", "sqs-consumer", "s3-trigger", "api-backend"} <= ids
    status, created = console_api(lamina, "blueprints/api-backend", {"FunctionName": fn_name, "Role": ROLE})
    assert status == 200
    assert created["Handler"] == "lambda_function.lambda_handler"
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    event = {"rawPath": "/items", "requestContext": {"http": {"method": "GET"}}}
    out = json.loads(lambda_client.invoke(FunctionName=fn_name, Payload=json.dumps(event))["Payload"].read())
    assert json.loads(out["body"]) == {"method": "GET", "path": "/items"}
    status, body = console_api(lamina, "blueprints/api-backend", {"FunctionName": fn_name, "Role": ROLE})
    assert (status, body["__type"]) == (409, "ResourceConflictException")


def test_changes_from_another_origin_are_refused(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    for headers in (
        {"Content-Type": "application/json", "Origin": "http://evil.example"},
        {"Content-Type": "text/plain"},  # a form-like post a foreign page may send without asking
    ):
        request = urllib.request.Request(
            f"{lamina.url}/console/api/call/lambda/UpdateFunctionConfiguration",
            data=json.dumps({"FunctionName": fn_name, "MemorySize": 512}).encode(),
            method="POST",
            headers=headers,
        )
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("accepted a cross-origin change")
        except urllib.error.HTTPError as error:
            assert error.code == 403
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["MemorySize"] == 128


def test_signed_requests_under_console_go_to_the_services(lamina: LaminaProcess) -> None:
    request = urllib.request.Request(
        f"{lamina.url}/console/",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request"},
    )
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a signed request got the console")
    except urllib.error.HTTPError as error:
        assert error.headers["Content-Type"] != "text/html; charset=utf-8"


def test_the_node_blueprint_runs(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    status, created = console_api(lamina, "blueprints/hello-node", {"FunctionName": fn_name, "Role": ROLE})
    assert (status, created["Runtime"], created["Handler"]) == (200, "nodejs20.x", "index.handler")
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    status, result = console_api(lamina, f"functions/{fn_name}/test", {"event": '{"a": 1}'})
    assert status == 200, result
    assert json.loads(result["response"]) == {"statusCode": 200, "body": '"Hello from Lambda!"'}
    assert 'Received event: {"a":1}' in result["logTail"]
    status, source = console_api(lamina, f"functions/{fn_name}/source")
    assert source["file"] == "index.mjs"


def test_the_list_reads_every_page_of_list_functions(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    names = sorted(f"{fn_name}-{i:03d}" for i in range(120))  # more than two ListFunctions pages of 50
    package = make_zip()
    for name in names:
        lambda_client.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": package}
        )
    seen: list[str] = []
    start = 0
    while True:
        status, page = console_api(lamina, f"functions?q={fn_name}&start={start}&limit=25")
        assert (status, page["total"], page["start"]) == (200, 120, start)
        if not page["functions"]:
            break
        seen += [f["FunctionName"] for f in page["functions"]]
        start += 25
    assert seen == names


def test_the_list_shows_what_list_functions_shows(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    """The list's one-pass path (not ListFunctions page by page) gives ListFunctions' own entries and order."""
    names = [f"{fn_name}-b", f"{fn_name}-a", f"{fn_name}-c-x"]
    for name in names:
        _create(lambda_client, name)
    listed = [
        fn
        for page in lambda_client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for fn in page["Functions"]
        if fn["FunctionName"].startswith(fn_name)
    ]
    status, page = console_api(lamina, f"functions?q={fn_name}&start=0&limit=10")
    assert (status, page["total"]) == (200, 3)
    assert [f["FunctionName"] for f in page["functions"]] == [f["FunctionName"] for f in listed] == sorted(names)
    for shown, fn in zip(page["functions"], listed, strict=True):
        assert shown["FunctionArn"] == fn["FunctionArn"]
        assert (shown["Runtime"], shown["MemorySize"], shown["PackageType"]) == (fn["Runtime"], 128, fn["PackageType"])
        assert shown["LastModified"] == fn["LastModified"]
    status, page = console_api(lamina, f"functions?q={fn_name}-C&start=0&limit=10")
    assert [f["FunctionName"] for f in page["functions"]] == [f"{fn_name}-c-x"]
