"""Accepted log events survive kill -9: PutLogEvents commits before answering, function output once written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import make_zip
from tests.logs.conftest import now_ms, wait_for
from tests.server import ROLE, LaminaProcess


def test_events_groups_and_filters_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    logs = server.client("logs")
    lam = server.client("lambda")
    logs.create_log_group(logGroupName="/kept", tags={"k": "v"})
    logs.put_retention_policy(logGroupName="/kept", retentionInDays=30)
    logs.create_log_stream(logGroupName="/kept", logStreamName="s")
    t = now_ms()
    logs.put_log_events(logGroupName="/kept", logStreamName="s", logEvents=[{"timestamp": t, "message": "acked"}])
    code = make_zip({"app.py": "def handler(event, context):\n    print('output line')\n"})
    lam.create_function(
        FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": code}
    )
    lam.invoke(FunctionName="f")

    def output() -> list[Any]:
        try:
            answer = logs.filter_log_events(logGroupName="/aws/lambda/f", filterPattern='"output line"')
            found: list[Any] = answer["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return found

    wait_for(output)
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    logs = again.client("logs")
    events = logs.get_log_events(logGroupName="/kept", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["acked"]
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/kept")["logGroups"]
    assert group["retentionInDays"] == 30
    assert logs.list_tags_log_group(logGroupName="/kept")["tags"] == {"k": "v"}
    assert len(logs.filter_log_events(logGroupName="/aws/lambda/f", filterPattern='"output line"')["events"]) == 1
