"""The aws CLI against Lamina's SQS: create-queue, send-message, receive-message, delete-message."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, cli_environment, json_runner


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url, "sqs")


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_round_trip(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    url = aws("create-queue", "--queue-name", name)["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    sent = aws(
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "from the cli",
        "--message-attributes",
        '{"Foo": {"DataType": "String", "StringValue": "Bar"}}',
    )
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    got = aws("receive-message", "--queue-url", url, "--message-attribute-names", "All", "--wait-time-seconds", "1")
    [msg] = got["Messages"]
    assert msg["Body"] == "from the cli" and msg["MessageId"] == sent["MessageId"]
    aws("delete-message", "--queue-url", url, "--receipt-handle", msg["ReceiptHandle"])
    assert aws("receive-message", "--queue-url", url) is None
    attrs = aws("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    aws("delete-queue", "--queue-url", url)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_fifo_queue_refuses_a_standard_dead_letter_queue(aws: Any, tmp_path: Path, lamina: Any) -> None:
    dlq = aws("create-queue", "--queue-name", f"cli-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = aws("get-queue-attributes", "--queue-url", dlq, "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})
    attributes = json.dumps({"FifoQueue": "true", "RedrivePolicy": policy})
    done = subprocess.run(
        [str(AWS), "--endpoint-url", lamina.url, "sqs", "create-queue", "--queue-name",
         f"cli-{uuid.uuid4().hex[:10]}.fifo", "--attributes", attributes],
        env=cli_environment(tmp_path), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stderr
    assert "(InvalidParameterValue)" in done.stderr
    assert "Reason: Dead-letter queue must be same type of queue as the source.." in done.stderr
    aws("delete-queue", "--queue-url", dlq)
