"""The console API's CloudWatch-backed views (Monitor charts, the list's last-hour columns), its cost view (the
same figures as `lamina cost`) and tune runs, against a real Lamina through its wire APIs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner
from tests.conftest import make_zip
from tests.console.conftest import console_api
from tests.logs.conftest import wait_for
from tests.server import ROLE, LaminaProcess

FAILING = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return event\n"


def _create(lambda_client: Any, name: str, source: str = FAILING) -> None:
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)


def _invoke(lambda_client: Any, name: str, ok: int, failed: int) -> None:
    for _ in range(ok):
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    for _ in range(failed):
        assert lambda_client.invoke(FunctionName=name, Payload=b'{"fail": true}').get("FunctionError")


def _metric_total(cloudwatch: Any, name: str, metric: str) -> float:
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
    return float(sum(p["Sum"] for p in got["Datapoints"]))


def test_monitor_series_come_from_get_metric_data(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    _invoke(lambda_client, fn_name, 3, 1)
    cloudwatch = lamina.client("cloudwatch")
    wait_for(lambda: _metric_total(cloudwatch, fn_name, "Invocations") == 4)
    status, body = console_api(lamina, f"functions/{fn_name}/metrics?minutes=60")
    assert status == 200, body
    assert body["period"] == 60 and body["end"] - body["start"] == 3600
    series = body["series"]
    assert sum(v for _, v in series["invocations"]) == 4
    assert sum(v for _, v in series["errors"]) == 1
    assert series["throttles"] == [] or sum(v for _, v in series["throttles"]) == 0
    assert all(v > 0 for _, v in series["durationMax"])
    assert series["concurrent"] and max(v for _, v in series["concurrent"]) >= 1
    # the success rate is CloudWatch's metric math over the same two series
    rates = dict((t, v) for t, v in series["successRate"])
    for t, n in series["invocations"]:
        errors = dict((t2, v) for t2, v in series["errors"]).get(t, 0)
        assert rates[t] == 100 - 100 * errors / n
    # p99: shown when CloudWatch has extended statistics, else a note and the maximum (never an error)
    assert series.get("durationP99") or "maximum is shown" in body["percentilesNote"]
    status, body = console_api(lamina, f"functions/{fn_name}/metrics?minutes=7")
    assert status == 400 and body["__type"] == "InvalidParameterValueException"


def test_list_has_last_hour_invocations_and_errors(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    _create(lambda_client, fn_name + "-idle")
    _invoke(lambda_client, fn_name, 2, 1)
    cloudwatch = lamina.client("cloudwatch")
    wait_for(lambda: _metric_total(cloudwatch, fn_name, "Errors") == 1)
    status, page = console_api(lamina, f"functions?q={fn_name}")
    assert status == 200
    by_name = {f["FunctionName"]: f for f in page["functions"]}
    assert (by_name[fn_name]["invocations"], by_name[fn_name]["errors"]) == (3, 1)
    assert (by_name[fn_name + "-idle"]["invocations"], by_name[fn_name + "-idle"]["errors"]) == (0, 0)


def test_cost_view_gives_what_lamina_cost_gives(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    _invoke(lambda_client, fn_name, 4, 0)
    logs = lamina.client("logs")

    def reports() -> int:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn_name}", filterPattern="REPORT")
        except logs.exceptions.ResourceNotFoundException:
            return 0
        return len(found["events"])

    wait_for(lambda: reports() == 4)
    command = [sys.executable, "-m", "lamina.cli.main", "cost", "--endpoint-url", lamina.url]
    cli = subprocess.run(
        [*command, "--function", fn_name, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (expected,) = json.loads(cli.stdout)["functions"]
    status, body = console_api(lamina, f"functions/{fn_name}/cost")
    assert status == 200, body
    for key in ("requests", "gbSeconds", "ephemeralGbSeconds", "costUsd", "architecture"):
        assert body[key] == expected[key], key
    assert body["requests"] == 4 and body["costUsd"] > 0
    status, body = console_api(lamina, f"functions/{fn_name}-never/cost")
    assert status == 404 and body["__type"] == "ResourceNotFoundException"


def test_cost_view_of_a_function_never_invoked(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    status, body = console_api(lamina, f"functions/{fn_name}/cost?minutes=60")
    assert status == 200 and (body["requests"], body["costUsd"]) == (0, 0.0)


def test_tune_run_in_the_background(lamina: LaminaProcess, lambda_client: Any, fn_name: str) -> None:
    _create(lambda_client, fn_name)
    status, body = console_api(lamina, f"functions/{fn_name}/tune", {"memory": "128,64", "invocations": 2})
    assert status == 400 and body["message"] == "Memory sizes must be 128-10240 MB."
    status, body = console_api(lamina, f"functions/{fn_name}/tune", {"memory": "128", "strategy": "luck"})
    assert status == 400 and body["message"].startswith("Strategy must be one of")
    status, run = console_api(
        lamina, f"functions/{fn_name}/tune", {"memory": "128,256", "invocations": 2, "strategy": "balanced"}
    )
    assert status == 200 and run["state"] == "Running"
    # the server keeps answering while the sweep runs (its thread waits on the API, not the event loop)
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["FunctionName"] == fn_name

    def finished() -> Any:
        got = console_api(lamina, f"functions/{fn_name}/tune/{run['id']}")[1]
        return got if got["state"] != "Running" else None

    done = wait_for(finished, timeout=120)
    assert done["state"] == "Succeeded", done
    assert [r["memory"] for r in done["output"]["results"]] == [128, 256]
    assert done["output"]["strategy"] == "balanced" and any("256 MB" in line for line in done["progress"])
    with urllib.request.urlopen(f"{lamina.url}/console/api/functions/{fn_name}/tune/{run['id']}/chart") as answer:
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "frame-ancestors 'self'" in answer.headers["Content-Security-Policy"]
        assert b'<svg id="chart"' in answer.read()
    assert console_api(lamina, f"functions/{fn_name}/tune")[1]["run"]["id"] == run["id"]
    # the sweep put the memory size back and removed the versions it published
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["MemorySize"] == 128
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName=fn_name)["Versions"]] == [
        "$LATEST"
    ]


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_provisioned_concurrency_and_async_config_through_the_console(
    lamina: LaminaProcess, lambda_client: Any, fn_name: str, tmp_path: Path
) -> None:
    _create(lambda_client, fn_name)
    version = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    status, body = console_api(
        lamina,
        "call/lambda/PutProvisionedConcurrencyConfig",
        {"FunctionName": fn_name, "Qualifier": version, "ProvisionedConcurrentExecutions": 1},
    )
    assert status in (200, 202), body
    got = lambda_client.get_provisioned_concurrency_config(FunctionName=fn_name, Qualifier=version)
    assert got["RequestedProvisionedConcurrentExecutions"] == 1
    status, body = console_api(
        lamina,
        "call/lambda/PutProvisionedConcurrencyConfig",
        {"FunctionName": fn_name, "Qualifier": "$LATEST", "ProvisionedConcurrentExecutions": 1},
    )
    assert status == 400 and body["__type"] == "InvalidParameterValueException", body
    status, body = console_api(
        lamina,
        "call/lambda/PutFunctionEventInvokeConfig",
        {"FunctionName": fn_name, "MaximumRetryAttempts": 5},
    )
    assert status == 400 and body["__type"] == "ValidationException", body
    status, body = console_api(
        lamina,
        "call/lambda/PutFunctionEventInvokeConfig",
        {"FunctionName": fn_name, "MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 120},
    )
    assert status == 200, body
    got = lambda_client.get_function_event_invoke_config(FunctionName=fn_name)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 120)
    # what the console set is what the aws CLI reads back
    aws = json_runner(tmp_path, lamina.url, "lambda")
    shown = aws("get-function-event-invoke-config", "--function-name", fn_name)
    assert (shown["MaximumRetryAttempts"], shown["MaximumEventAgeInSeconds"]) == (1, 120)
    shown = aws("get-provisioned-concurrency-config", "--function-name", fn_name, "--qualifier", version)
    assert shown["RequestedProvisionedConcurrentExecutions"] == 1
