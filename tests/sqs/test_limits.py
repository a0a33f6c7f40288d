"""SQS's quotas and the QueueDeletedRecently rule through boto3 (json protocol) and an older SDK (query protocol),
against a real server. Each refused request leaves the queue as it was."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response: dict[str, Any] = info.value.response
    return response


def test_a_deleted_name_waits_sixty_seconds(sqs: Any, sqs_query: Any) -> None:
    name = f"recent-{uuid.uuid4().hex[:8]}"
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=name)["QueueUrl"])
    message = "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    error = _error(sqs.create_queue, QueueName=name)
    assert error["Error"] == {
        "Code": "AWS.SimpleQueueService.QueueDeletedRecently",
        "Message": message,
        "QueryErrorCode": "QueueDeletedRecently",
        "Type": "Sender",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = _error(sqs_query.create_queue, QueueName=name)
    assert error["Error"]["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert error["Error"]["Message"] == message
    assert name not in str(sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []))


def test_at_most_ten_message_attributes(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    attrs = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    error = _error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
    assert error["Error"]["Code"] == "InvalidParameterValue"
    assert error["Error"]["Message"] == "Number of message attributes [11] exceeds the allowed maximum [10]."
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "a", "MessageBody": "x", "MessageAttributes": attrs}, {"Id": "b", "MessageBody": "y"}],
    )
    assert [f["Id"] for f in batch["Failed"]] == ["a"] and [s["Id"] for s in batch["Successful"]] == ["b"]
    del attrs["a10"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "2"
    }


def test_at_most_fifty_tags(sqs: Any, sqs_query: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(49)})
    error = _error(sqs.tag_queue, QueueUrl=url, Tags={"x": "1", "y": "2"})
    assert error["Error"]["Code"] == "InvalidParameterValue"
    assert error["Error"]["Message"] == f"Too many tags added for queue {url.rsplit('/', 1)[1]}."
    assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 49  # unchanged
    sqs_query.tag_queue(QueueUrl=url, Tags={"k0": "overwritten", "x": "1"})  # 50, one replaced
    assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 50
    error = _error(sqs.create_queue, QueueName=f"tags-{uuid.uuid4().hex[:8]}", tags={f"k{i}": "v" for i in range(51)})
    assert error["Error"]["Code"] == "InvalidParameterValue"


def test_at_most_seven_policy_actions(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    actions = ["SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"] * 2
    error = _error(sqs.add_permission, QueueUrl=url, Label="l", AWSAccountIds=["111111111111"], Actions=actions)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "OverLimit"
    assert error["Error"]["Message"] == "8 Actions were found, maximum allowed is 7."
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_batches_and_receive_bounds(sqs_query: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    cases: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
        (sqs_query.send_message_batch, {"Entries": []}, "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            sqs_query.send_message_batch,
            {"Entries": [{"Id": str(i), "MessageBody": "m"} for i in range(11)]},
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            sqs_query.send_message_batch,
            {"Entries": [{"Id": "a", "MessageBody": "m"}, {"Id": "a", "MessageBody": "n"}]},
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        (
            sqs_query.send_message_batch,
            {"Entries": [{"Id": "a:b", "MessageBody": "m"}]},
            "AWS.SimpleQueueService.InvalidBatchEntryId",
        ),
        (
            sqs_query.send_message_batch,
            {"Entries": [{"Id": str(i), "MessageBody": "m" * 110_000} for i in range(10)]},
            "AWS.SimpleQueueService.BatchRequestTooLong",
        ),
        (sqs_query.receive_message, {"MaxNumberOfMessages": 11}, "InvalidParameterValue"),
        (sqs_query.receive_message, {"MaxNumberOfMessages": 0}, "InvalidParameterValue"),
    ]
    for call, kwargs, code in cases:
        assert _error(call, QueueUrl=url, **kwargs)["Error"]["Code"] == code, kwargs
    assert "Messages" not in sqs_query.receive_message(QueueUrl=url)  # nothing was sent


def test_fifo_refuses_an_expired_handle_over_the_wire(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    error = _error(sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
    assert error["Error"]["Message"] == (
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    )
    batch = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle}])
    assert batch["Failed"] == [
        {
            "Id": "a",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": error["Error"]["Message"],
        }
    ]
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1  # still there
