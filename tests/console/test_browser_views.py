"""The console's CloudWatch charts, list columns, cost and tuning views, provisioned concurrency and async
configuration, and its sign-in under --auth sigv4, in Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.logs.conftest import wait_for
from tests.server import ROLE, LaminaProcess

pytestmark = pytest.mark.slow
SOURCE = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return event\n"


def _create(lambda_client: Any, name: str) -> None:
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SOURCE})},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)


def _invocations_recorded(lamina: LaminaProcess, name: str, metric: str, n: int) -> None:
    cloudwatch = lamina.client("cloudwatch")

    def total() -> bool:
        now = time.time()
        got = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            StartTime=now - 3600,
            EndTime=now + 60,
            Period=3600,
            Statistics=["Sum"],
        )
        return bool(sum(p["Sum"] for p in got["Datapoints"]) == n)

    wait_for(total)  # metrics are flushed to the store every second


def _no_errors(page: Any) -> None:
    assert page.problems == [], page.problems


def test_monitoring_charts_come_from_cloudwatch(
    page: Any, lambda_client: Any, lamina: LaminaProcess, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    for payload in (b"{}", b"{}", b"{}", b'{"fail": true}'):
        lambda_client.invoke(FunctionName=fn_name, Payload=payload)
    _invocations_recorded(lamina, fn_name, "Errors", 1)
    page.goto(f"/console/functions/{fn_name}/monitoring")
    charts = page.get_by_test_id("monitoring-chart")
    charts.first.get_by_test_id("chart-summary").wait_for()
    captions = [c.locator("figcaption").inner_text() for c in charts.all()]
    assert captions[0] == "Invocations (4 in range)"
    assert re.fullmatch(r"Duration \((p99|max) [0-9.]+ ms\)", captions[1]), captions[1]
    assert captions[2:6] == [
        "Errors (1 in range)",
        "Success rate (75%)",
        "Throttles (0 in range)",
        "Concurrent executions (max 1)",
    ]
    assert captions[6].startswith("Async event age")
    assert "AWS/Lambda" in page.get_by_test_id("monitoring-note").inner_text()
    # the time-range picker asks again for the range chosen
    with page.expect_response(lambda r: "metrics?minutes=1440" in r.url):
        page.get_by_test_id("monitoring-range").select_option("1440")
    page.get_by_test_id("monitoring-note").filter(has_text="period 24 min").wait_for()
    assert charts.first.locator("figcaption").inner_text() == "Invocations (4 in range)"
    _no_errors(page)


def test_list_shows_last_hour_invocations_and_errors(
    page: Any, lambda_client: Any, lamina: LaminaProcess, fn_name: str
) -> None:
    _create(lambda_client, fn_name)
    for payload in (b"{}", b'{"fail": true}', b'{"fail": true}'):
        lambda_client.invoke(FunctionName=fn_name, Payload=payload)
    _invocations_recorded(lamina, fn_name, "Invocations", 3)
    page.goto(f"/console/?q={fn_name}")
    row = page.get_by_test_id("function-list").locator("tr", has=page.get_by_role("link", name=fn_name, exact=True))
    row.get_by_test_id("invocations-1h").filter(has_text="3").wait_for()
    assert row.get_by_test_id("errors-1h").inner_text() == "2"
    _no_errors(page)


def test_cost_view_and_tune_from_the_page(page: Any, lambda_client: Any, lamina: LaminaProcess, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")
    lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")
    logs = lamina.client("logs")

    def reported() -> bool:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn_name}", filterPattern="REPORT")
        except logs.exceptions.ResourceNotFoundException:
            return False
        return len(found["events"]) == 2

    wait_for(reported)
    page.goto(f"/console/functions/{fn_name}/cost")
    page.get_by_test_id("cost-requests").filter(has_text="2").wait_for()
    assert re.fullmatch(r"\$0\.0000\d+", page.get_by_test_id("cost-usd").inner_text())
    # bad input: the API's words next to the field, nothing started
    page.get_by_test_id("tune-memory").fill("64,128")
    page.get_by_test_id("tune-start").click()
    page.get_by_test_id("tune-memory-error").filter(has_text="128-10240 MB").wait_for()
    assert page.get_by_test_id("tune-progress").inner_text() == ""
    page.get_by_test_id("tune-memory").fill("128,256")
    page.get_by_test_id("tune-invocations").fill("2")
    page.get_by_test_id("tune-strategy").select_option("speed")
    page.get_by_test_id("tune-start").click()
    page.get_by_test_id("tune-progress").filter(has_text="Running").wait_for()
    page.get_by_test_id("tune-best").wait_for(timeout=120_000)
    assert re.match(r"Best \(speed\): (128|256) MB", page.get_by_test_id("tune-best").inner_text())
    assert "256 MB: p50" in page.get_by_test_id("tune-progress").inner_text()
    frame = page.frame_locator("[data-testid=tune-chart]")
    frame.locator("svg#chart").wait_for()
    assert frame.locator("table tr").count() == 3
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["MemorySize"] == 128
    _no_errors(page)


def test_provisioned_concurrency_and_async_config_are_edited(page: Any, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    version = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/console/functions/{fn_name}/configuration")
    # $LATEST cannot have provisioned concurrency: the API's message under the qualifier, nothing made
    page.get_by_test_id("config-provisioned-qualifier").select_option("$LATEST")
    page.get_by_test_id("config-provisioned-input").fill("1")
    page.get_by_test_id("config-provisioned-save").click()
    error = page.get_by_test_id("config-provisioned-qualifier-error")
    error.filter(has_text="InvalidParameterValueException").wait_for()
    made = lambda_client.list_provisioned_concurrency_configs(FunctionName=fn_name)
    assert made["ProvisionedConcurrencyConfigs"] == []
    page.get_by_test_id("config-provisioned-qualifier").select_option(version)
    page.get_by_test_id("config-provisioned-save").click()
    page.get_by_test_id("config-provisioned").locator(f"li[data-qualifier='{version}']").wait_for()
    got = lambda_client.get_provisioned_concurrency_config(FunctionName=fn_name, Qualifier=version)
    assert got["RequestedProvisionedConcurrentExecutions"] == 1
    # the status follows the allocation without a reload
    page.get_by_test_id("config-provisioned-status").filter(has_text="READY").wait_for(timeout=30_000)
    got = lambda_client.get_provisioned_concurrency_config(FunctionName=fn_name, Qualifier=version)
    assert got["Status"] == "READY"
    # async invocation: a retry count out of range is refused next to its field
    page.get_by_test_id("config-async-retries").fill("5")
    page.get_by_test_id("config-async-save").click()
    page.get_by_test_id("config-async-retries-error").filter(has_text="ValidationException").wait_for()
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_event_invoke_config(FunctionName=fn_name)
    queue = f"arn:aws:sqs:us-east-1:000000000000:{fn_name}-failures"
    page.get_by_test_id("config-async-retries").fill("1")
    page.get_by_test_id("config-async-age").fill("300")
    page.get_by_test_id("config-async-failure").fill(queue)
    page.get_by_test_id("config-async-save").click()
    page.get_by_test_id("config-async-status").wait_for()
    got = lambda_client.get_function_event_invoke_config(FunctionName=fn_name)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 300)
    assert got["DestinationConfig"]["OnFailure"]["Destination"] == queue
    assert "on failure → " + queue in page.get_by_test_id("config-async").inner_text()
    # a value with HTML comes back in the API's message as text, never as markup
    page.on("dialog", lambda dialog: page.problems.append(f"dialog: {dialog.message}"))
    page.get_by_test_id("config-async-success").fill("<img src=x onerror=alert(1)>")
    page.get_by_test_id("config-async-save").click()
    shown = page.get_by_test_id("config-async-success-error").or_(page.get_by_test_id("config-async-error"))
    shown.filter(has_text="Exception").wait_for()
    assert page.locator("img").count() == 0
    kept = lambda_client.get_function_event_invoke_config(FunctionName=fn_name)["DestinationConfig"]
    assert "Destination" not in kept.get("OnSuccess", {}) and kept["OnFailure"]["Destination"] == queue
    _no_errors(page)


def _tab(browser: Any, server: LaminaProcess) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    tab = context.new_page()
    tab.problems = []
    tab.on("pageerror", lambda exc: tab.problems.append(f"page error: {exc}"))
    tab.on("request", lambda r: None if r.url.startswith(server.url) else tab.problems.append(f"off-site: {r.url}"))
    tab.on("response", lambda r: tab.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)
    return tab


def test_sign_in_under_sigv4_and_access_denied_shown(browser: Any, fresh_lamina: Any, tmp_path: Path) -> None:
    server = fresh_lamina("--auth", "sigv4", data_dir=tmp_path / "secured")
    root = json.loads((tmp_path / "secured" / "root-credentials").read_text())
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=root["AccessKeyId"],
        aws_secret_access_key=root["SecretAccessKey"],
    )
    iam.create_user(UserName="nobody")
    pair = iam.create_access_key(UserName="nobody")["AccessKey"]
    tab = _tab(browser, server)
    try:
        tab.goto("/console/")
        tab.get_by_test_id("sign-in-key").fill(root["AccessKeyId"])
        tab.get_by_test_id("sign-in-secret").fill("wrong")
        tab.get_by_test_id("sign-in-submit").click()
        tab.get_by_test_id("sign-in-error").filter(has_text="not valid").wait_for()
        tab.get_by_test_id("sign-in-secret").fill(root["SecretAccessKey"])
        tab.get_by_test_id("sign-in-submit").click()
        tab.get_by_test_id("function-count").filter(has_text="0 functions").wait_for()
        assert tab.get_by_test_id("signed-in-as").inner_text().startswith("root")
        cookie = next(c for c in tab.context.cookies() if c["name"] == "lamina-console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert tab.evaluate("document.cookie") == ""  # no script can read the session
        # a session that ends (here: ended from elsewhere) brings the sign-in page back at the next call
        tab.evaluate("fetch('/console/api/session', {method: 'DELETE'})")
        tab.get_by_test_id("create-function").click()
        tab.get_by_test_id("sign-in-key").wait_for()
        tab.get_by_test_id("sign-in-key").fill(root["AccessKeyId"])
        tab.get_by_test_id("sign-in-secret").fill(root["SecretAccessKey"])
        tab.get_by_test_id("sign-in-submit").click()
        tab.get_by_test_id("create-submit").wait_for()  # back where the user was going
        tab.get_by_test_id("sign-out").click()
        tab.get_by_test_id("sign-in-key").fill(pair["AccessKeyId"])
        tab.get_by_test_id("sign-in-secret").fill(pair["SecretAccessKey"])
        tab.get_by_test_id("sign-in-submit").click()
        denied = tab.get_by_test_id("list-error")
        denied.filter(has_text="AccessDeniedException").wait_for()
        assert "user/nobody is not authorized to perform: lambda:ListFunctions" in denied.inner_text()
        assert tab.problems == [], tab.problems
    finally:
        tab.context.close()
