"""The console in a real browser: Debian's chromium driven by Playwright against a real Lamina."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.logs.conftest import wait_for
from tests.server import ROLE, LaminaProcess

pytestmark = pytest.mark.slow


def _create(lambda_client: Any, name: str, source: str = "def handler(event, context):\n    return event\n") -> None:
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)


def _no_errors(page: Any) -> None:
    assert page.problems == [], page.problems


def test_list_shows_a_function_created_through_boto3(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto("/console/")
    page.get_by_test_id("function-search").fill(fn_name)
    row = page.get_by_test_id("function-list").get_by_role("link", name=fn_name)
    row.wait_for()
    assert "python3.12" in row.locator("xpath=ancestor::tr").inner_text()
    row.click()
    page.get_by_test_id("function-title").wait_for()
    assert page.get_by_test_id("function-title").inner_text() == fn_name
    assert page.url.endswith(f"/console/functions/{fn_name}")
    _no_errors(page)


def test_create_from_blueprint_produces_a_working_function(page: Any, lambda_client: Any, fn_name: str) -> None:
    page.goto("/console/")
    page.get_by_test_id("create-function").click()
    page.get_by_test_id("blueprint-hello-python").click()
    page.get_by_test_id("function-name-input").fill(fn_name)
    page.get_by_test_id("create-submit").click()
    page.get_by_test_id("code-editor").wait_for()
    assert "Hello from Lambda!" in page.get_by_test_id("code-editor").inner_text()
    out = lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")
    assert json.loads(out["Payload"].read()) == {"statusCode": 200, "body": '"Hello from Lambda!"'}
    _no_errors(page)


def test_edit_code_and_deploy_changes_what_invoke_returns(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/code")
    editor = page.get_by_test_id("code-editor")
    editor.wait_for()
    assert "return event" in editor.inner_text()
    assert editor.locator(".tok-keyword", has_text="def").count() == 1  # highlighted
    area = editor.locator("textarea")
    area.fill('def handler(event, context):\n    return {"deployed": True}\n')
    page.get_by_test_id("code-deploy").click()
    page.get_by_test_id("code-status").filter(has_text="Deployed").wait_for()
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    out = lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")
    assert json.loads(out["Payload"].read()) == {"deployed": True}
    _no_errors(page)


def test_test_event_shows_response_figures_and_log_line(page: Any, lambda_client: Any, fn_name: str) -> None:
    source = 'def handler(event, context):\n    print("saw", event["k"])\n    return {"k": event["k"]}\n'
    _create(lambda_client, fn_name, source)
    page.goto(f"/console/functions/{fn_name}/test")
    page.get_by_test_id("test-event-input").fill('{"k": "v-42"}')
    page.get_by_test_id("test-run").click()
    result = page.get_by_test_id("test-result")
    page.get_by_test_id("test-status").wait_for()
    assert "succeeded" in page.get_by_test_id("test-status").inner_text()
    assert json.loads(page.get_by_test_id("test-response").inner_text()) == {"k": "v-42"}
    assert re.fullmatch(r"[0-9.]+ ms", page.get_by_test_id("test-duration").inner_text())
    assert re.fullmatch(r"[0-9]+ ms", page.get_by_test_id("test-billed-duration").inner_text())
    assert re.fullmatch(r"[0-9]+ MB", page.get_by_test_id("test-max-memory").inner_text())
    assert "saw v-42" in page.get_by_test_id("test-log").inner_text()
    assert "REPORT RequestId" in result.inner_text()
    _no_errors(page)


def test_saved_test_events_survive_a_reload(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/test")
    page.get_by_test_id("test-event-name").fill("MyEvent")
    page.get_by_test_id("test-event-input").fill('{"saved": 1}')
    page.get_by_test_id("test-event-save").click()
    page.get_by_test_id("test-event-select").locator("option", has_text="MyEvent").wait_for(state="attached")
    page.reload()
    page.get_by_test_id("test-event-select").locator("option", has_text="MyEvent").wait_for(state="attached")
    page.get_by_test_id("test-event-select").select_option("MyEvent")
    assert json.loads(page.get_by_test_id("test-event-input").input_value()) == {"saved": 1}
    _no_errors(page)


def test_invalid_json_event_shows_the_api_error(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/test")
    page.get_by_test_id("test-event-input").fill("{not json")
    page.get_by_test_id("test-run").click()
    error = page.get_by_test_id("test-event-error")
    error.filter(has_text="InvalidRequestContentException").wait_for()
    assert "Could not parse request body into json" in error.inner_text()
    _no_errors(page)


def test_memory_and_timeout_edit_shows_in_get_function_configuration(
    page: Any, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/configuration")
    page.get_by_test_id("config-memory-input").fill("256")
    page.get_by_test_id("config-timeout-input").fill("17")
    page.get_by_test_id("config-save").click()
    page.get_by_test_id("config-status").filter(has_text="saved").wait_for()
    config = lambda_client.get_function_configuration(FunctionName=fn_name)
    assert (config["MemorySize"], config["Timeout"]) == (256, 17)
    _no_errors(page)


def test_memory_out_of_range_shows_the_api_message_and_changes_nothing(
    page: Any, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/configuration")
    page.get_by_test_id("config-memory-input").fill("64")
    page.get_by_test_id("config-timeout-input").fill("9")
    page.get_by_test_id("config-save").click()
    error = page.get_by_test_id("config-memory-error")
    error.filter(has_text="ValidationException").wait_for()
    assert "greater than or equal to 128" in error.inner_text()
    config = lambda_client.get_function_configuration(FunctionName=fn_name)
    assert (config["MemorySize"], config["Timeout"]) == (128, 3)
    _no_errors(page)


def test_log_lines_appear_after_invocations_and_html_is_escaped(
    page: Any, lambda_client: Any, lamina: LaminaProcess, fn_name: str
) -> None:
    _create(lambda_client, fn_name, 'def handler(event, context):\n    print("<img src=x onerror=alert(1)>", event)\n')
    lambda_client.invoke(FunctionName=fn_name, Payload=b'{"n": 1}')
    logs = lamina.client("logs")

    def reported() -> list[Any]:
        try:
            return list(logs.filter_log_events(logGroupName=f"/aws/lambda/{fn_name}", filterPattern="REPORT")["events"])
        except logs.exceptions.ResourceNotFoundException:  # the group is made with the first batch written
            return []

    wait_for(reported)  # the log writer commits off the invoke path: the page reads what is committed
    page.on("dialog", lambda dialog: page.problems.append(f"dialog: {dialog.message}"))
    page.goto(f"/console/functions/{fn_name}/monitoring")
    lines = page.get_by_test_id("log-lines")
    lines.filter(has_text="onerror").wait_for(timeout=20_000)
    assert "<img src=x onerror=alert(1)> {'n': 1}" in lines.inner_text()
    assert lines.locator("img").count() == 0
    _no_errors(page)


def test_deleted_function_page_shows_the_api_message(page: Any) -> None:
    page.goto("/console/functions/no-such-function-here")
    error = page.get_by_test_id("function-error")
    error.wait_for()
    assert "ResourceNotFoundException: Function not found" in error.inner_text()
    _no_errors(page)


def test_environment_values_with_html_are_shown_as_text(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    value = '"><img src=x onerror=alert(1)>'
    lambda_client.update_function_configuration(FunctionName=fn_name, Environment={"Variables": {"HTML": value}})
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    page.on("dialog", lambda dialog: page.problems.append(f"dialog: {dialog.message}"))
    page.goto(f"/console/functions/{fn_name}/configuration")
    env = page.get_by_test_id("config-env")
    env.locator(".env-value").wait_for()
    assert env.locator(".env-value").input_value() == value
    assert page.locator("img").count() == 0
    _no_errors(page)


def test_a_zip_the_api_rejects_shows_its_message_and_changes_nothing(
    page: Any, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    before = lambda_client.get_function_configuration(FunctionName=fn_name)["CodeSha256"]
    page.goto(f"/console/functions/{fn_name}/code")
    page.get_by_test_id("zip-upload").set_input_files(
        files=[{"name": "broken.zip", "mimeType": "application/zip", "buffer": b"this is not a zip"}]
    )
    error = page.get_by_test_id("zip-error")
    error.filter(has_text="InvalidParameterValueException").wait_for()
    assert "Could not unzip uploaded file" in error.inner_text()
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["CodeSha256"] == before
    _no_errors(page)


def test_delete_is_confirmed_first(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("function-delete").click()
    page.get_by_test_id("function-title").wait_for()
    assert lambda_client.get_function(FunctionName=fn_name)["Configuration"]["FunctionName"] == fn_name
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("function-delete").click()
    page.get_by_test_id("function-list").wait_for()
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=fn_name)
    _no_errors(page)


def test_tabs_are_addressable_and_keyboard_driven(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/test")
    page.get_by_test_id("test-event-input").wait_for()
    page.get_by_test_id("tab-test").focus()
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("log-lines").wait_for()
    assert page.url.endswith(f"/console/functions/{fn_name}/monitoring")
    assert page.get_by_test_id("tab-monitoring").get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowRight")
    page.get_by_test_id("config-memory-input").wait_for()
    page.go_back()
    page.get_by_test_id("log-lines").wait_for()
    _no_errors(page)


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_window(page: Any, lambda_client: Any, fn_name: str, width: int) -> None:
    _create(lambda_client, fn_name)
    page.set_viewport_size({"width": width, "height": 800})
    for path, ready in (
        ("/console/", "function-list"),
        (f"/console/functions/{fn_name}/code", "code-editor"),
        (f"/console/functions/{fn_name}/configuration", "config-async-save"),
        (f"/console/functions/{fn_name}/monitoring", "monitoring-charts"),
        (f"/console/functions/{fn_name}/cost", "cost-requests"),
        ("/console/create", "create-submit"),
    ):
        page.goto(path)
        page.get_by_test_id(ready).wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    _no_errors(page)


def test_alias_traffic_split_is_shown(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    one = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    lambda_client.update_function_configuration(FunctionName=fn_name, Description="second")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    two = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    lambda_client.create_alias(
        FunctionName=fn_name, Name="live", FunctionVersion=one, RoutingConfig={"AdditionalVersionWeights": {two: 0.25}}
    )
    page.goto(f"/console/functions/{fn_name}/versions")
    split = page.get_by_test_id("aliases").locator(".split")
    split.wait_for()
    assert split.inner_text().split("\n") == [f"{one}: 75%", f"{two}: 25%"]
    _no_errors(page)


def test_reserved_concurrency_is_set_through_put_function_concurrency(
    page: Any, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    page.goto(f"/console/functions/{fn_name}/configuration")
    page.get_by_test_id("config-concurrency").filter(has_text="Unreserved").wait_for()
    page.get_by_test_id("config-concurrency-input").fill("7")
    page.get_by_test_id("config-concurrency-save").click()
    page.get_by_test_id("config-concurrency").filter(has_text="Reserved concurrency: 7").wait_for()
    assert lambda_client.get_function_concurrency(FunctionName=fn_name)["ReservedConcurrentExecutions"] == 7
    assert "Defaults: 2 retry attempts" in page.get_by_test_id("config-async").inner_text()
    _no_errors(page)


def test_a_failing_function_shows_its_error(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name, "def handler(event, context):\n    raise ValueError('broken <b>here</b>')\n")
    page.goto(f"/console/functions/{fn_name}/test")
    page.get_by_test_id("test-run").click()
    status = page.get_by_test_id("test-status")
    status.wait_for()
    assert "failed (Unhandled)" in status.inner_text()
    response = json.loads(page.get_by_test_id("test-response").inner_text())
    assert (response["errorType"], response["errorMessage"]) == ("ValueError", "broken <b>here</b>")
    assert page.get_by_test_id("test-result").locator("b").count() == 0
    _no_errors(page)


def test_create_with_a_bad_name_shows_the_api_message_next_to_the_name(page: Any, lambda_client: Any) -> None:
    page.goto("/console/create")
    page.get_by_test_id("function-name-input").fill("bad name!")
    page.get_by_test_id("create-submit").click()
    error = page.get_by_test_id("function-name-error")
    error.filter(has_text="ValidationException").wait_for()
    assert "functionName" in error.inner_text()
    assert page.url.endswith("/console/create")
    _no_errors(page)


def test_sqs_template_runs_against_the_sqs_consumer_blueprint(page: Any, lambda_client: Any, fn_name: str) -> None:
    page.goto("/console/create")
    page.get_by_test_id("blueprint-sqs-consumer").click()
    page.get_by_test_id("function-name-input").fill(fn_name)
    page.get_by_test_id("create-submit").click()
    page.get_by_test_id("code-editor").wait_for()
    page.get_by_test_id("tab-test").click()
    page.get_by_test_id("test-template-select").select_option("sqs")
    assert json.loads(page.get_by_test_id("test-event-input").input_value())["Records"][0]["eventSource"] == "aws:sqs"
    page.get_by_test_id("test-run").click()
    page.get_by_test_id("test-status").wait_for()
    assert json.loads(page.get_by_test_id("test-response").inner_text()) == {"batchItemFailures": []}
    assert "Message body: Hello from SQS!" in page.get_by_test_id("test-log").inner_text()
    _no_errors(page)


def test_runtime_settings_save_through_update_function_configuration(
    page: Any, lambda_client: Any, fn_name: str
) -> None:
    _create(lambda_client, fn_name, "def other(event, context):\n    return 'other'\n")
    page.goto(f"/console/functions/{fn_name}/code")
    page.get_by_test_id("handler-input").fill("app.other")
    page.get_by_test_id("runtime-save").click()
    page.get_by_test_id("code-status").filter(has_text="Runtime settings saved").wait_for()
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["Handler"] == "app.other"
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    assert lambda_client.invoke(FunctionName=fn_name)["Payload"].read() == b'"other"'
    _no_errors(page)
