"""kill -9: every message SendMessage acknowledged is there after a restart; deleted ones stay deleted."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def test_messages_survive_kill_9(fresh_lamina: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "sqs-data"
    server = fresh_lamina(data_dir=data)
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    fifo = sqs.create_queue(QueueName="durable.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

    def send(i: int) -> str:
        client = server.client("sqs")
        body = f"message-{i}"
        client.send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes={"n": {"DataType": "Number", "StringValue": str(i)}}
        )
        return body

    with ThreadPoolExecutor(8) as pool:
        acked = set(pool.map(send, range(200)))
    for i in range(3):
        sqs.send_message(QueueUrl=fifo, MessageBody=f"f{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    deleted = {m["Body"] for m in got}
    server.kill()

    restarted = fresh_lamina(data_dir=data)
    sqs = restarted.client("sqs")
    url = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        for m in batch:
            assert m["MessageAttributes"]["n"]["StringValue"] == m["Body"].split("-")[1]
            seen.add(m["Body"])
    assert seen == acked - deleted
    fifo = sqs.get_queue_url(QueueName="durable.fifo")["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]]
    assert bodies == ["f0", "f1", "f2"]
    attrs = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["FifoQueue"])["Attributes"]
    assert attrs == {"FifoQueue": "true"}


def test_shutdown_does_not_wait_for_long_polls(fresh_lamina: Callable[..., Any], tmp_path: Path) -> None:
    import threading
    import time

    server = fresh_lamina(data_dir=tmp_path / "poll-data")
    sqs = server.client("sqs", read_timeout=30)
    url = sqs.create_queue(QueueName="idle")["QueueUrl"]
    answers: list[Any] = []

    def poll() -> None:
        try:
            answers.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))
        except Exception as error:  # the server went away: also an answer, and not a 20 s wait
            answers.append(error)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    time.sleep(0.5)
    start = time.monotonic()
    assert server.stop(timeout=15) == 0  # a graceful exit, not the kill after the timeout
    assert time.monotonic() - start < 15  # well before the 20 s the poll would have waited
    poller.join(5)
    assert answers and not poller.is_alive()


def test_a_move_task_survives_kill_9_without_losing_or_doubling_a_message(
    fresh_lamina: Callable[..., Any], tmp_path: Path
) -> None:
    import json
    import time

    data = tmp_path / "move-data"
    server = fresh_lamina(data_dir=data)
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName="move-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName="move-src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    bodies = {f"m{i}" for i in range(6)}
    sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": b, "MessageBody": b} for b in sorted(bodies)])
    received = 0
    while received < 6:
        received += len(
            sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        )
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)  # all in the DLQ now
    sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=2)
    time.sleep(1.2)  # a second's worth moves, then the server dies mid-task
    server.kill()

    sqs = fresh_lamina(data_dir=data).client("sqs")
    for _ in range(100):
        [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        if task["Status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesToMove"] == 6
    seen: list[str] = []
    while batch := sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        seen += [m["Body"] for m in batch]
    assert sorted(seen) == sorted(bodies)  # each exactly once
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)
