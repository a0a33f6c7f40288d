"""StartLiveTail through boto3: the event stream botocore reads (sessionStart, then sessionUpdate results)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tests.logs.conftest import now_ms
from tests.server import LaminaProcess


def test_live_tail_streams_new_matching_events(lamina: LaminaProcess, make_group: Callable[..., str]) -> None:
    # StartLiveTail's endpoint has the host prefix "stream-" (stream-logs.<region>.amazonaws.com on AWS); a
    # local endpoint is an IP address, so the prefix is not injected.
    logs = lamina.client("logs", inject_host_prefix=False)
    group = make_group()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    answer = logs.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="ERROR")
    stream = answer["responseStream"]
    seen: list[dict[str, Any]] = []
    starts: list[dict[str, Any]] = []

    def read() -> None:
        for event in stream:
            if "sessionStart" in event:
                starts.append(event["sessionStart"])
            for result in event.get("sessionUpdate", {}).get("sessionResults", []):
                seen.append(result)
            if len(seen) >= 2:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    t = now_ms()
    for n in range(3):
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": t + n, "message": f"ERROR {n}" if n != 1 else "INFO skip"}],
        )
    reader.join(15)
    stream.close()
    assert starts and starts[0]["logGroupIdentifiers"] == [arn] and starts[0]["sessionId"]
    assert [r["message"] for r in seen] == ["ERROR 0", "ERROR 2"]
    assert seen[0]["logStreamName"] == "s" and seen[0]["logGroupIdentifier"] == arn
    assert seen[0]["timestamp"] == t


def test_live_tail_unknown_group(lamina: LaminaProcess) -> None:
    logs = lamina.client("logs", inject_host_prefix=False)
    try:
        logs.start_live_tail(logGroupIdentifiers=["arn:aws:logs:us-east-1:000000000000:log-group:/nope"])
    except logs.exceptions.ResourceNotFoundException as error:
        assert error.response["Error"]["Message"] == "The specified log group does not exist."
    else:
        raise AssertionError("expected ResourceNotFoundException")
