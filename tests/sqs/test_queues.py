"""Queue lifecycle through boto3: create (idempotent), URLs, list, attributes, tags, errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str | None, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["Error"].get("QueryErrorCode"), r["ResponseMetadata"]["HTTPStatusCode"]


def test_create_is_idempotent_with_same_attributes(sqs: Any) -> None:
    name = f"q-{uuid.uuid4().hex[:10]}"
    first = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})["QueueUrl"]
    again = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})["QueueUrl"]
    assert first == again
    assert first.endswith(f"/000000000000/{name}")
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "6"})
    assert _code(exc) == ("QueueAlreadyExists", "QueueNameExists", 400)
    assert exc.value.response["Error"]["Message"] == (
        "A queue already exists with the same name and a different value for attribute DelaySeconds"
    )
    sqs.delete_queue(QueueUrl=first)


def test_url_uses_the_host_the_client_used(sqs: Any, make_queue: Callable[..., str], lamina: Any) -> None:
    url = make_queue()
    assert url.startswith(lamina.url + "/000000000000/")
    localhost = boto3.client(
        "sqs",
        endpoint_url=f"http://localhost:{lamina.port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    name = url.rsplit("/", 1)[1]
    assert localhost.get_queue_url(QueueName=name)["QueueUrl"] == f"http://localhost:{lamina.port}/000000000000/{name}"
    # a URL handed out under one host name works under another
    assert localhost.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"].endswith(
        ":" + name
    )


def test_missing_queue_is_queue_does_not_exist(sqs: Any, lamina: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_url(QueueName="no-such-queue")
    assert _code(exc) == ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{lamina.url}/000000000000/no-such-queue", MessageBody="x")


def test_delete_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_attributes(QueueUrl=url)


def test_list_queues_prefix_and_pagination(sqs: Any) -> None:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)]
    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert listed["QueueUrls"] == urls and "NextToken" not in listed
    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert page["QueueUrls"] == urls[:2]
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=10, NextToken=page["NextToken"])
    assert rest["QueueUrls"] == urls[2:]
    paged = [
        u
        for p in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, MaxResults=2)
        for u in p["QueueUrls"]
    ]
    assert paged == urls
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="nothing-has-this-prefix")
    for url in urls:
        sqs.delete_queue(QueueUrl=url)


def test_attributes_all_and_named(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(VisibilityTimeout="20", ReceiveMessageWaitTimeSeconds="10")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(attrs) == {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
        "CreatedTimestamp",
        "DelaySeconds",
        "LastModifiedTimestamp",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "QueueArn",
        "ReceiveMessageWaitTimeSeconds",
        "SqsManagedSseEnabled",
        "VisibilityTimeout",
    }
    assert attrs["VisibilityTimeout"] == "20" and attrs["MaximumMessageSize"] == "1048576"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "420", "MaximumMessageSize": "2048"})
    named = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "MaximumMessageSize"])
    assert named["Attributes"] == {"DelaySeconds": "420", "MaximumMessageSize": "2048"}


def test_attribute_errors(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    with pytest.raises(ClientError) as exc:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert _code(exc) == ("InvalidAttributeName", "InvalidAttributeName", 400)
    with pytest.raises(ClientError) as exc:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "50000"})
    assert _code(exc)[0] == "InvalidAttributeValue"
    fifo = make_queue(fifo=True)
    with pytest.raises(ClientError) as exc:
        sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "false"})
    assert exc.value.response["Error"]["Message"] == (
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
    )


def test_fifo_queue_defaults(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "false"
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}", Attributes={"FifoQueue": "true"})
    assert _code(exc)[0] == "InvalidParameterValue"


def test_tags(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}", tags={"a": "1"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1"}
    sqs.tag_queue(QueueUrl=url, Tags={"b": "2", "a": "3"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "3", "b": "2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "b"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    sqs.delete_queue(QueueUrl=url)


def test_redrive_policy_attribute(sqs: Any, make_queue: Callable[..., str]) -> None:
    dlq = make_queue()
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"}))
    policy = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    assert json.loads(policy) == {"deadLetterTargetArn": arn, "maxReceiveCount": 3}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    with pytest.raises(ClientError):
        make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": arn + "-missing", "maxReceiveCount": 3}))


def test_permissions_live_in_the_policy_attribute(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.add_permission(
        QueueUrl=url, Label="l1", AWSAccountIds=["111122223333"], Actions=["SendMessage", "ReceiveMessage"]
    )
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    sqs.remove_permission(QueueUrl=url, Label="l1")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])


def test_dead_letter_source_queues_are_paginated(sqs: Any, make_queue: Callable[..., str]) -> None:
    dlq = make_queue()
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
    sources = sorted(make_queue(RedrivePolicy=policy) for _ in range(3))
    first = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert first["queueUrls"] == sources[:2] and first["NextToken"]
    rest = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=first["NextToken"])
    assert rest["queueUrls"] == sources[2:] and "NextToken" not in rest
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == sources


def test_dead_letter_queue_must_be_the_same_type_as_its_source(sqs: Any, make_queue: Callable[..., str]) -> None:
    """AWS: "Dead-letter queue must be same type of queue as the source.." (sic), on create and on set, either
    way round."""
    arns = {}
    for fifo in (False, True):
        url = make_queue(fifo=fifo)
        arns[fifo] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for fifo in (False, True):
        policy = json.dumps({"deadLetterTargetArn": arns[not fifo], "maxReceiveCount": 3})
        with pytest.raises(ClientError) as exc:
            make_queue(fifo=fifo, RedrivePolicy=policy)
        assert _code(exc) == ("InvalidParameterValue", "InvalidParameterValueException", 400)
        assert exc.value.response["Error"]["Message"] == (
            f'Value {{"deadLetterTargetArn":"{arns[not fifo]}","maxReceiveCount":3}} for parameter RedrivePolicy '
            "is invalid. Reason: Dead-letter queue must be same type of queue as the source.."
        )
        url = make_queue(fifo=fifo)
        with pytest.raises(ClientError) as exc:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
        assert _code(exc) == ("InvalidParameterValue", "InvalidParameterValueException", 400)
        make_queue(fifo=fifo, RedrivePolicy=json.dumps({"deadLetterTargetArn": arns[fifo], "maxReceiveCount": 3}))


def test_untag_queue_needs_tag_keys(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    with pytest.raises(ClientError) as exc:
        sqs.untag_queue(QueueUrl=url, TagKeys=[])
    assert _code(exc) == ("InvalidParameterValue", "InvalidParameterValueException", 400)
    assert exc.value.response["Error"]["Message"] == "Tag keys must be between 1 and 128 characters in length."


@pytest.mark.parametrize(
    ("accounts", "actions", "expected"),
    [
        (["111122223333"], [], ("MissingParameter", "The request must contain the parameter Actions.")),
        (
            [],
            ["SendMessage"],
            ("InvalidParameterValue", "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify."),
        ),
        (
            ["111122223333"],
            ["SendMessage", "SetQueueAttributes"],
            (
                "InvalidParameterValue",
                "Value SQS:SetQueueAttributes for parameter ActionName is invalid. "
                "Reason: Only the queue owner is allowed to invoke this action.",
            ),
        ),
        (
            ["111122223333"],
            ["TagQueue"],
            (
                "InvalidParameterValue",
                "Value SQS:TagQueue for parameter ActionName is invalid. "
                "Reason: Only the queue owner is allowed to invoke this action.",
            ),
        ),
        (  # not an action at all, or one a policy names otherwise (a batch is granted by its single action)
            ["111122223333"],
            ["SendMessageBatch"],
            (
                "InvalidParameterValue",
                "Value SQS:SendMessageBatch for parameter ActionName is invalid. "
                "Reason: Please refer to the appropriate WSDL for a list of valid actions.",
            ),
        ),
        (
            ["111122223333"],
            ["Bogus"],
            (
                "InvalidParameterValue",
                "Value SQS:Bogus for parameter ActionName is invalid. "
                "Reason: Please refer to the appropriate WSDL for a list of valid actions.",
            ),
        ),
    ],
    ids=["no-actions", "no-accounts", "owner-only", "owner-only-tags", "batch-action", "unknown-action"],
)
def test_add_permission_refuses_what_aws_refuses(
    sqs: Any, make_queue: Callable[..., str], accounts: list[str], actions: list[str], expected: tuple[str, str]
) -> None:
    url = make_queue()
    with pytest.raises(ClientError) as exc:
        sqs.add_permission(QueueUrl=url, Label="l1", AWSAccountIds=accounts, Actions=actions)
    error = exc.value.response["Error"]
    assert (error["Code"], error["Message"]) == expected
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
