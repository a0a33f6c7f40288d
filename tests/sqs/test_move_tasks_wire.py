"""Message move tasks through boto3 (json protocol) and an older SDK (query protocol) against a real server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def _redriven(sqs: Any, make_queue: Callable[..., str], count: int) -> tuple[str, str, str]:
    """(source url, dead-letter queue url, its ARN) with `count` messages redriven to the dead-letter queue."""
    dlq = make_queue()
    dlq_arn = _arn(sqs, dlq)
    src = make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(count)])
    got: list[Any] = []
    while len(got) < count:
        got += sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)  # all moved to the DLQ
    return src, dlq, dlq_arn


def _finished(sqs: Any, arn: str) -> dict[str, Any]:
    for _ in range(200):
        [task] = sqs.list_message_move_tasks(SourceArn=arn)["Results"]
        if task["Status"] not in ("RUNNING", "CANCELLING"):
            return dict(task)
        time.sleep(0.05)
    raise AssertionError("the move task did not finish")


def test_redrive_back_to_the_source(sqs: Any, make_queue: Callable[..., str]) -> None:
    src, dlq, dlq_arn = _redriven(sqs, make_queue, 4)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    decoded = json.loads(base64.b64decode(handle))  # AWS's handles decode to {"taskId": ..., "sourceArn": ...}
    assert set(decoded) == {"taskId", "sourceArn"} and decoded["sourceArn"] == dlq_arn
    task = _finished(sqs, dlq_arn)
    assert task["Status"] == "COMPLETED" and "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesMoved"] == task["ApproximateNumberOfMessagesToMove"] == 4
    assert task["SourceArn"] == dlq_arn and "DestinationArn" not in task
    assert isinstance(task["StartedTimestamp"], int)
    got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in got) == ["m0", "m1", "m2", "m3"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {"1"}
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)


def test_errors(sqs: Any, make_queue: Callable[..., str]) -> None:
    plain = make_queue()
    missing = _arn(sqs, plain).rsplit(":", 1)[0] + ":no-such-queue"
    with pytest.raises(ClientError) as info:
        sqs.start_message_move_task(SourceArn=missing)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["Error"]["Message"] == (
        "The resource that you specified for the SourceArn parameter doesn't exist."
    )
    with pytest.raises(ClientError) as info:
        sqs.start_message_move_task(SourceArn=_arn(sqs, plain))
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert info.value.response["Error"]["Message"] == "Source queue must be configured as a Dead Letter Queue."
    with pytest.raises(ClientError) as info:
        sqs.cancel_message_move_task(TaskHandle="garbage")
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_rate_cancel_and_the_query_protocol(sqs: Any, sqs_query: Any, make_queue: Callable[..., str]) -> None:
    _, dlq, dlq_arn = _redriven(sqs, make_queue, 5)
    other = make_queue()
    handle = sqs_query.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn=_arn(sqs, other), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    [running] = sqs_query.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert running["TaskHandle"] == handle and running["Status"] == "RUNNING"
    assert running["MaxNumberOfMessagesPerSecond"] == 1 and running["ApproximateNumberOfMessagesToMove"] == 5
    with pytest.raises(ClientError) as info:  # one active task per source
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert "Only one active task" in info.value.response["Error"]["Message"]
    moved = sqs_query.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert moved < 5  # one a second: the cancel came first
    task = _finished(sqs, dlq_arn)
    assert task["Status"] == "CANCELLED"
    left = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"]
    )
    there = int(
        sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"]
    )
    assert left + there == 5 and there == task["ApproximateNumberOfMessagesMoved"]
