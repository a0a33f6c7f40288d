"""FIFO topics through boto3: MessageGroupId required, deduplication at the topic level (5 minutes, by id or by
content), SequenceNumbers, only SQS subscriptions, and group/dedup ids kept on the way into FIFO queues."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _fifo_queue(sqs: Any, **attributes: str) -> tuple[str, str]:
    url: str = sqs.create_queue(
        QueueName=f"q-{uuid.uuid4().hex[:10]}.fifo", Attributes={"FifoQueue": "true", **attributes}
    )["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
    ).get("Messages", []):
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(batch)
    return got


def test_topic_level_deduplication_and_sequence_numbers(sns: Any, sqs: Any, make_topic: Any) -> None:
    topic = make_topic(f"f-{uuid.uuid4().hex[:10]}.fifo", Attributes={"FifoTopic": "true"})
    url, arn = _fifo_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="one", MessageGroupId="g1", MessageDeduplicationId="d1")
    again = sns.publish(TopicArn=topic, Message="one, again", MessageGroupId="g1", MessageDeduplicationId="d1")
    second = sns.publish(TopicArn=topic, Message="two", MessageGroupId="g2", MessageDeduplicationId="d2")
    assert again == {**again, "MessageId": first["MessageId"], "SequenceNumber": first["SequenceNumber"]}
    assert len(first["SequenceNumber"]) == 20 and first["SequenceNumber"].isdigit()
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    messages = _receive_all(sqs, url)
    assert [m["Body"] for m in messages] == ["one", "two"]  # the duplicate was not delivered
    assert [(m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in messages] == [
        ("g1", "d1"),
        ("g2", "d2"),
    ]
    batch = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "dup", "MessageGroupId": "g1", "MessageDeduplicationId": "d1"},
            {"Id": "b", "Message": "three", "MessageGroupId": "g1", "MessageDeduplicationId": "d3"},
        ],
    )
    assert batch["Successful"][0]["MessageId"] == first["MessageId"]
    assert [m["Body"] for m in _receive_all(sqs, url)] == ["three"]


def test_content_based_deduplication(sns: Any, sqs: Any, make_topic: Any) -> None:
    topic = make_topic(
        f"f-{uuid.uuid4().hex[:10]}.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )
    url, arn = _fifo_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    first = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    assert sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")["MessageId"] == first["MessageId"]
    [message] = _receive_all(sqs, url)
    assert message["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    body = json.loads(message["Body"])
    assert list(body) == ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp", "UnsubscribeURL"]
    assert body["SequenceNumber"] == first["SequenceNumber"]


def test_fifo_topic_rules(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic(f"f-{uuid.uuid4().hex[:10]}.fifo", Attributes={"FifoTopic": "true"})

    def error(call: Any, **kwargs: Any) -> str:
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        return str(e.value.response["Error"]["Message"])

    for protocol, endpoint in [("http", "http://127.0.0.1:9/x"), ("email", "a@example.com"), ("sms", "+15551234567")]:
        assert error(sns.subscribe, TopicArn=topic, Protocol=protocol, Endpoint=endpoint) == (
            f"Invalid parameter: Invalid protocol type: {protocol}"
        )
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert error(sns.publish, TopicArn=topic, Message="m") == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    )
    # a standard queue may subscribe to a FIFO topic (recorded from AWS)
    _, standard_arn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=standard_arn)


def test_deduplication_survives_a_restart(fresh_lamina: Any) -> None:
    server = fresh_lamina()
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="restart.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, arn = _fifo_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="once", MessageGroupId="g", MessageDeduplicationId="d")
    server.stop()
    server = fresh_lamina(data_dir=server.data_dir)
    sns, sqs = server.client("sns"), server.client("sqs")
    again = sns.publish(TopicArn=topic, Message="once", MessageGroupId="g", MessageDeduplicationId="d")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    later = sns.publish(TopicArn=topic, Message="later", MessageGroupId="g", MessageDeduplicationId="e")
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert [m["Body"] for m in _receive_all(sqs, url)] == ["once", "later"]
