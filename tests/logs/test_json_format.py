"""LoggingConfig LogFormat JSON: the runtime's JSON log records filtered by ApplicationLogLevel, the platform's
JSON records (platform.start / runtimeDone / report) filtered by SystemLogLevel, prints left as they are."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import make_zip
from tests.logs.conftest import wait_for

CODE = """
import logging
logger = logging.getLogger()
def handler(event, context):
    logger.info("quiet info")
    logger.warning("loud warning")
    print("plain print")
    return "ok"
"""


def _messages(logs: Any, group: str, until: str) -> list[str]:
    def check() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        messages = [e["message"] for e in events]
        return messages if any(until in m for m in messages) else []

    found: list[str] = wait_for(check)
    return found


def test_json_records_and_levels(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(
        fn_name,
        Code={"ZipFile": make_zip({"app.py": CODE})},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO"},
    )
    request_id = lambda_client.invoke(FunctionName=fn_name)["ResponseMetadata"]["RequestId"]
    messages = _messages(logs, f"/aws/lambda/{fn_name}", "platform.report")
    records = [json.loads(m) for m in messages if m.startswith("{")]
    kinds = [r.get("type") for r in records if "type" in r]
    assert kinds == ["platform.initStart", "platform.start", "platform.runtimeDone", "platform.report"]
    start = next(r for r in records if r.get("type") == "platform.start")
    assert start["record"] == {"requestId": request_id, "version": "$LATEST"} and start["time"].endswith("Z")
    report = next(r for r in records if r.get("type") == "platform.report")["record"]
    assert report["requestId"] == request_id and report["status"] == "success"
    assert set(report["metrics"]) >= {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB"}
    (warning,) = [r for r in records if "level" in r]
    assert warning["level"] == "WARNING" and warning["message"] == "loud warning"
    assert warning["requestId"] == request_id and warning["timestamp"].endswith("Z")
    assert "plain print" in messages and not any("quiet info" in m for m in messages)


def test_system_log_level_warn_drops_platform_records(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(
        fn_name,
        Code={"ZipFile": make_zip({"app.py": CODE})},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"},
    )
    lambda_client.invoke(FunctionName=fn_name)
    messages = _messages(logs, f"/aws/lambda/{fn_name}", "plain print")
    assert not any('"platform.' in m for m in messages) and not any(m.startswith("START") for m in messages)
    assert any('"quiet info"' in m for m in messages)
