"""The aws CLI against the logs API: v1 (the dev extras) for the plain commands, and `aws logs tail` (a command
only the CLI v2 has; Debian's `awscli` package is v2) with --since and --follow."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, cli_environment
from tests.logs.conftest import now_ms
from tests.server import LaminaProcess

AWS_V2 = shutil.which("aws", path="/usr/bin:/usr/local/bin")


def _v2() -> str | None:
    if AWS_V2 is None:
        return None
    version = subprocess.run([AWS_V2, "--version"], check=False, capture_output=True, text=True).stdout
    return AWS_V2 if version.startswith("aws-cli/2.") else None


def _run(cli: str, lamina: LaminaProcess, tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [cli, "--endpoint-url", lamina.url, *args],
        env=cli_environment(tmp_path),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_v1_commands(lamina: LaminaProcess, tmp_path: Path, logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group()
    _run(str(AWS), lamina, tmp_path, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    t = now_ms()
    events = json.dumps([{"timestamp": t, "message": "ERROR one"}, {"timestamp": t + 1, "message": "INFO two"}])
    _run(str(AWS), lamina, tmp_path, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s",
         "--log-events", events)  # fmt: skip
    out = json.loads(_run(str(AWS), lamina, tmp_path, "logs", "filter-log-events", "--log-group-name", group,
                          "--filter-pattern", "ERROR"))  # fmt: skip
    assert [e["message"] for e in out["events"]] == ["ERROR one"]
    out = json.loads(_run(str(AWS), lamina, tmp_path, "logs", "get-log-events", "--log-group-name", group,
                          "--log-stream-name", "s", "--start-from-head"))  # fmt: skip
    assert [e["message"] for e in out["events"]] == ["ERROR one", "INFO two"]
    out = json.loads(_run(str(AWS), lamina, tmp_path, "logs", "describe-log-groups", "--log-group-name-prefix", group))
    assert [g["logGroupName"] for g in out["logGroups"]] == [group]


@pytest.mark.skipif(_v2() is None, reason="`aws logs tail` needs the aws CLI v2 (Debian's awscli package)")
def test_aws_logs_tail_since_and_follow(
    lamina: LaminaProcess, tmp_path: Path, logs: Any, make_group: Callable[..., str]
) -> None:
    cli = _v2()
    assert cli is not None
    group = make_group()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": t - 20 * 60_000, "message": "too early for --since 5m"},
            {"timestamp": t - 60_000, "message": "a minute ago"},
        ],
    )
    out = _run(cli, lamina, tmp_path, "logs", "tail", group, "--since", "5m", "--format", "short")
    assert "a minute ago" in out and "too early" not in out
    env = cli_environment(tmp_path)
    follow = subprocess.Popen(
        [cli, "--endpoint-url", lamina.url, "logs", "tail", group, "--follow", "--format", "short"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, follow.kill)  # a read that never ends fails the test instead of hanging it
    watchdog.start()
    try:
        time.sleep(2)
        logs.put_log_events(
            logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "fresh"}]
        )
        assert follow.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = follow.stdout.readline()
            lines.append(line)
            if "fresh" in line:
                break
        assert any("fresh" in line for line in lines), lines
    finally:
        watchdog.cancel()
        follow.kill()
        follow.wait()


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_v1_start_live_tail(
    lamina: LaminaProcess, tmp_path: Path, logs: Any, make_group: Callable[..., str]
) -> None:
    group = make_group()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    # The operation's host prefix ("stream-") cannot go in front of an IP address endpoint.
    env = {**cli_environment(tmp_path), "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    tail = subprocess.Popen(
        [str(AWS), "--endpoint-url", lamina.url, "logs", "start-live-tail", "--log-group-identifiers", arn],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, tail.kill)  # a read that never ends fails the test instead of hanging it
    watchdog.start()
    try:
        time.sleep(2)
        event = {"timestamp": now_ms(), "message": "live"}
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[event])
        assert tail.stdout is not None
        assert tail.stdout.readline().strip() == "live"
    finally:
        watchdog.cancel()
        tail.kill()
        tail.wait()
