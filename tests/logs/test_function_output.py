"""A real function's output in its log group: stream names as AWS forms them, START/END/REPORT lines, the
function's prints, LoggingConfig.LogGroup, and published versions' streams."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from tests.conftest import make_zip
from tests.logs.conftest import wait_for

PRINTS = "def handler(event, context):\n    print('hello from', event.get('who'))\n    return 'ok'\n"
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[(\$LATEST|\d+)\][0-9a-f]{32}$")


def _messages(logs: Any, group: str, stream: str) -> list[str]:
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    return [e["message"] for e in events]


def test_prints_and_platform_lines_reach_the_group(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": PRINTS})})
    for who in ("one", "two"):
        lambda_client.invoke(FunctionName=fn_name, Payload=b'{"who": "%s"}' % who.encode())
    group = f"/aws/lambda/{fn_name}"

    def streams() -> list[dict[str, Any]]:
        try:
            found: list[dict[str, Any]] = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return found if found and "lastEventTimestamp" in found[0] else []

    (stream,) = wait_for(streams)
    assert STREAM.match(stream["logStreamName"]) and "[$LATEST]" in stream["logStreamName"]
    assert stream["arn"].endswith(f":log-group:{group}:log-stream:{stream['logStreamName']}")
    wanted = ["hello from one", "hello from two"]
    name = stream["logStreamName"]
    messages = wait_for(lambda: (m := _messages(logs, group, name)) and sum("REPORT" in x for x in m) == 2 and m)
    assert [m for m in messages if m.startswith("hello")] == wanted
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    assert len(starts) == 2 and all(m.endswith(" Version: $LATEST") for m in starts)
    assert sum(m.startswith("END RequestId: ") for m in messages) == 2
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert "\tInit Duration: " in reports[0] and "\tInit Duration: " not in reports[1]
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["logGroupName"] == group
    assert described["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    assert described["storedBytes"] > 0


def test_logging_config_group_and_published_version(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    custom = f"/custom/{fn_name}"
    create_function(
        fn_name, Code={"ZipFile": make_zip({"app.py": PRINTS})}, LoggingConfig={"LogFormat": "Text", "LogGroup": custom}
    )
    version = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    lambda_client.invoke(FunctionName=fn_name, Qualifier=version, Payload=b'{"who": "v"}')
    streams = wait_for(lambda: _streams_with_events(logs, custom))
    assert all(STREAM.match(s) for s in streams) and any(f"[{version}]" in s for s in streams)
    messages = wait_for(lambda: (m := _messages(logs, custom, streams[0])) and any("REPORT" in x for x in m) and m)
    assert "hello from v" in messages
    assert any(m.startswith("START") and m.endswith(f"Version: {version}") for m in messages)


def _streams_with_events(logs: Any, group: str) -> list[str]:
    try:
        found = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [s["logStreamName"] for s in found if "lastEventTimestamp" in s]


PRINT_FORMS = """
import os, sys

def handler(event, context):
    print("a", 1, None, sep="-")
    print("no newline", end="")
    print(" then the rest", end=None)
    print("to stderr", file=sys.stderr, flush=True)
    print()
    sys.stdout.write("written ")
    sys.stdout.write("in two\\n")
    os.write(1, b"bad \\xff byte\\nlast\\n")
    return "ok"
"""


def test_print_forms_arrive_as_lines_in_order_with_one_timestamp_order(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    # The runtime writes each print() in one write and the platform splits output read in one go: the events
    # are still the lines, in order, as the builtin print() would have written them.
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": PRINT_FORMS})})
    answer = lambda_client.invoke(FunctionName=fn_name, LogType="Tail")
    wanted = ["a-1-None", "no newline then the rest", "to stderr", "", "written in two", "bad \ufffd byte", "last"]
    tail = base64.b64decode(answer["LogResult"]).decode("utf-8").split("\n")
    start = next(i for i, line in enumerate(tail) if line.startswith("START "))
    assert tail[start + 1 : start + 1 + len(wanted)] == wanted
    group = f"/aws/lambda/{fn_name}"

    def stored() -> list[dict[str, Any]]:
        try:
            found = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return found if any(e["message"].startswith("REPORT") for e in found) else []

    events = wait_for(stored)
    start = next(i for i, e in enumerate(events) if e["message"].startswith("START "))
    mine = events[start + 1 : start + 1 + len(wanted)]
    assert [e["message"] for e in mine] == wanted
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
