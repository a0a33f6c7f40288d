"""The AWS/SQS namespace per QueueName, from real sends, receives and deletes through boto3."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cloudwatch.conftest import wait_for
from tests.server import LaminaProcess

UNITS = {"SentMessageSize": "Bytes", "ApproximateAgeOfOldestMessage": "Seconds"}  # the rest are Count


def _stat(cloudwatch: Any, queue: str, name: str, stat: str) -> float | None:
    """The statistic over the last ten minutes, asked for in the metric's AWS unit (another unit finds nothing)."""
    now = datetime.now(UTC)
    got = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS", MetricName=name, Dimensions=[{"Name": "QueueName", "Value": queue}],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=660, Statistics=[stat],
        Unit=UNITS.get(name, "Count"),
    )["Datapoints"]  # fmt: skip
    return float(got[0][stat]) if got else None


def test_sent_received_deleted_empty_and_the_levels(lamina: LaminaProcess, cloudwatch: Any) -> None:
    sqs = lamina.client("sqs")
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 100)
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "a",
                "MessageBody": "y" * 10,
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "MessageBody": "z" * 1000},
        ],
    )
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=300)["Messages"]
    assert len(got) == 2
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)["Messages"]
    assert len(third) == 1
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": third[0]["ReceiptHandle"]}])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)

    wait_for(lambda: _stat(cloudwatch, name, "NumberOfMessagesSent", "Sum") == 3)
    assert _stat(cloudwatch, name, "NumberOfMessagesReceived", "Sum") == 3
    assert _stat(cloudwatch, name, "NumberOfMessagesDeleted", "Sum") == 2
    assert _stat(cloudwatch, name, "NumberOfEmptyReceives", "Sum") == 2
    # 100 + (10 + "k" + "String" + "v" = 18) + 1000 bytes, as the message size limit counts them
    assert _stat(cloudwatch, name, "SentMessageSize", "Sum") == 1118
    assert _stat(cloudwatch, name, "SentMessageSize", "Maximum") == 1000
    assert _stat(cloudwatch, name, "SentMessageSize", "Minimum") == 18
    # one message left, received and not deleted: in flight, none visible
    assert _stat(cloudwatch, name, "ApproximateNumberOfMessagesNotVisible", "Minimum") == 1
    assert _stat(cloudwatch, name, "ApproximateNumberOfMessagesVisible", "Maximum") == 0
    assert _stat(cloudwatch, name, "ApproximateAgeOfOldestMessage", "Maximum") is not None
    listed = cloudwatch.list_metrics(Namespace="AWS/SQS", Dimensions=[{"Name": "QueueName", "Value": name}])
    assert {m["MetricName"] for m in listed["Metrics"]} == {
        "NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted", "NumberOfEmptyReceives",
        "SentMessageSize", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
    }  # fmt: skip


def test_visible_messages_and_the_age_of_the_oldest(lamina: LaminaProcess, cloudwatch: Any) -> None:
    sqs = lamina.client("sqs")
    name = f"levels-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    first = time.time()
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    time.sleep(2.2)  # the age is whole seconds of the server's real clock
    read = time.time()
    assert _stat(cloudwatch, name, "ApproximateNumberOfMessagesVisible", "Maximum") == 4
    assert _stat(cloudwatch, name, "ApproximateNumberOfMessagesNotVisible", "Maximum") == 0
    age = _stat(cloudwatch, name, "ApproximateAgeOfOldestMessage", "Maximum")
    assert age is not None and 2 <= age <= time.time() - first
    assert read - first >= 2.2
