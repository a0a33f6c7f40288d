"""Messages through boto3: send, receive, delete, visibility, delay, long polling, MD5s, batches, purge,
redrive and FIFO. Timing tests use short real timeouts (1-2 s): these run against the real server;
the same rules are tested in virtual time in test_engine.py."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lamina.services.sqs.digests import md5_attributes


def _receive(sqs: Any, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])
    return messages


def test_send_receive_delete(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    [msg] = _receive(sqs, url, MessageSystemAttributeNames=["All"])
    assert msg["Body"] == "hello" and msg["MessageId"] == sent["MessageId"]
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert set(msg["Attributes"]) == {
        "ApproximateFirstReceiveTimestamp",
        "ApproximateReceiveCount",
        "SenderId",
        "SentTimestamp",
    }
    assert _receive(sqs, url) == []  # in flight
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_message_attribute_md5_matches_aws(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    # Digests recorded from AWS (test_sqs.py: receive_message_attribute_names_filters, binary attributes).
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="msg", MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}}
    )
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    binary = b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"
    sqs.send_message(
        QueueUrl=url, MessageBody="test", MessageAttributes={"attr1": {"DataType": "Binary", "BinaryValue": binary}}
    )
    got = _receive(sqs, url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    by_body = {m["Body"]: m for m in got}
    assert by_body["msg"]["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    assert by_body["test"]["MD5OfMessageAttributes"] == "8cbe4db156db8a94db8b801b7addb984"
    assert by_body["test"]["MessageAttributes"]["attr1"]["BinaryValue"] == binary


def test_message_attribute_name_filters(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(VisibilityTimeout="0")
    attrs = {n: {"DataType": "String", "StringValue": n} for n in ("a.x", "a.y", "b")}
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attrs)
    assert "MessageAttributes" not in _receive(sqs, url)[0]
    assert set(_receive(sqs, url, MessageAttributeNames=[".*"])[0]["MessageAttributes"]) == {"a.x", "a.y", "b"}
    assert set(_receive(sqs, url, MessageAttributeNames=["a.*"])[0]["MessageAttributes"]) == {"a.x", "a.y"}
    assert set(_receive(sqs, url, MessageAttributeNames=["b", "zz"])[0]["MessageAttributes"]) == {"b"}
    assert "MessageAttributes" not in _receive(sqs, url, MessageAttributeNames=["zz"])[0]


def test_visibility_timeout_and_receive_count(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(VisibilityTimeout="1")
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = _receive(sqs, url, AttributeNames=["All"])[0]
    assert _receive(sqs, url) == []
    time.sleep(1.1)
    second = _receive(sqs, url, AttributeNames=["All"])[0]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        second["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    assert len(_receive(sqs, url, VisibilityTimeout=30)) == 1


def test_change_visibility_after_expiry_and_after_delete(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    old = _receive(sqs, url, VisibilityTimeout=0)[0]
    # AWS accepts a change after the timeout ran out and changes nothing (recorded: visibility_timeout_expired;
    # LocalStack's AWS-validated fix #9632): the message stays visible
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"], VisibilityTimeout=5)
    msg = _receive(sqs, url, VisibilityTimeout=30)[0]
    # the first receive's handle no longer acts on the message: a change is refused, a delete succeeds
    # without deleting (a standard queue)
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"], VisibilityTimeout=5)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"
    ] == {"ApproximateNumberOfMessagesNotVisible": "1"}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=5)
    handle = msg["ReceiptHandle"]
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert exc.value.response["Error"]["Message"] == (
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
        "available for visibility timeout change."
    )
    with pytest.raises(ClientError) as exc:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert exc.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert exc.value.response["Error"]["Message"] == 'The input receipt handle "garbage" is not a valid receipt handle.'
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # deleting twice is not an error


def test_delay_seconds_queue_and_message(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(DelaySeconds="1")
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["no-delay"]
    got = _receive(sqs, url, WaitTimeSeconds=3)
    assert [m["Body"] for m in got] == ["queue-delay"]


def test_long_poll_wakes_on_send(sqs: Any, make_queue: Callable[..., str], lamina: Any) -> None:
    url = make_queue()
    other = lamina.client("sqs")
    timer = threading.Timer(0.5, lambda: other.send_message(QueueUrl=url, MessageBody="late"))
    start = time.monotonic()
    timer.start()
    got = _receive(sqs, url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - start
    timer.join()
    assert [m["Body"] for m in got] == ["late"]
    assert 0.4 < elapsed < 3


def test_long_poll_times_out_empty(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    start = time.monotonic()
    assert _receive(sqs, url, WaitTimeSeconds=1) == []
    assert 0.9 < time.monotonic() - start < 2.5


def test_receive_parameter_errors(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    err = exc.value.response["Error"]
    assert (err["Code"], err["QueryErrorCode"]) == ("InvalidParameterValue", "InvalidParameterValueException")
    assert (
        err["Message"]
        == "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    )
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert exc.value.response["Error"]["Message"] == (
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
    )


def test_max_number_of_messages(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    assert len(_receive(sqs, url, MaxNumberOfMessages=10)) == 10
    assert len(_receive(sqs, url, MaxNumberOfMessages=10)) == 2


def test_batches(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"e{i}", "MessageBody": f"body-{i}"} for i in range(3)]
        + [{"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000}],
    )
    assert [s["Id"] for s in result["Successful"]] == ["e0", "e1", "e2"]
    assert result["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"body-0").hexdigest()
    assert result["Failed"][0]["Id"] == "bad" and result["Failed"][0]["SenderFault"] is True
    got = _receive(sqs, url, MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in got) == ["body-0", "body-1", "body-2"]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0}]
    )
    assert changed["Successful"] == [{"Id": "a"}]
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    )
    assert len(deleted["Successful"]) == 3
    assert _receive(sqs, url) == []


def test_batch_request_errors(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(20)])
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    assert exc.value.response["Error"]["Message"] == "Maximum number of entries per request are 10. You have sent 20."
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a:b", "MessageBody": "x"}])
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.InvalidBatchEntryId"
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


def test_purge(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert _receive(sqs, url) == []
    with pytest.raises(ClientError) as exc:
        sqs.purge_queue(QueueUrl=url)
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_empty_and_oversized_messages(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(MaximumMessageSize="1024")
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert exc.value.response["Error"]["Code"] == "MissingParameter"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="a" * 1025)
    assert exc.value.response["Error"]["Message"] == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    )


def test_redrive_to_dead_letter_queue(sqs: Any, make_queue: Callable[..., str]) -> None:
    dlq = make_queue()
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2}))
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        assert len(_receive(sqs, src, VisibilityTimeout=0)) == 1
    assert _receive(sqs, src) == []  # the third receive moves it instead of delivering it
    [dead] = _receive(sqs, dlq, MessageSystemAttributeNames=["All"])
    assert dead["MessageId"] == sent["MessageId"] and dead["Body"] == "poison"
    assert dead["Attributes"]["ApproximateReceiveCount"] == "3"  # carried over from the source queue
    assert dead["Attributes"]["DeadLetterQueueSourceArn"].endswith(src.rsplit("/", 1)[1])


def test_fifo_order_groups_and_dedup(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True)
    for i in range(3):
        for group in ("g1", "g2"):
            r = sqs.send_message(
                QueueUrl=url, MessageBody=f"{group}-{i}", MessageGroupId=group, MessageDeduplicationId=f"{group}-{i}"
            )
            assert len(r["SequenceNumber"]) == 20
    dup = sqs.send_message(QueueUrl=url, MessageBody="g1-0", MessageGroupId="g1", MessageDeduplicationId="g1-0")
    first = _receive(sqs, url, MaxNumberOfMessages=1, AttributeNames=["All"])
    assert first[0]["Body"] == "g1-0" and first[0]["MessageId"] == dup["MessageId"]
    assert first[0]["Attributes"]["MessageGroupId"] == "g1"
    # g1 has a message in flight: only g2 is served, in order
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["g2-0", "g2-1", "g2-2"]
    assert _receive(sqs, url, MaxNumberOfMessages=10) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["g1-1", "g1-2"]


def test_fifo_content_based_deduplication(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    [msg] = _receive(sqs, url, MaxNumberOfMessages=10, AttributeNames=["MessageDeduplicationId"])
    assert msg["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_fifo_requires_group_and_dedup(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True)
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert exc.value.response["Error"]["Message"] == "The request must contain the parameter MessageGroupId."
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_trace_header_system_attribute(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="t",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert "MD5OfMessageSystemAttributes" in sent
    [msg] = _receive(sqs, url, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert msg["Attributes"] == {"AWSTraceHeader": trace}


def _fifo(sqs: Any, make_queue: Callable[..., str], sends: list[tuple[str, str]], **attributes: str) -> str:
    url = make_queue(fifo=True, ContentBasedDeduplication="true", **attributes)
    for body, group in sends:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    return url


def _bodies(sqs: Any, url: str, **kwargs: Any) -> list[str]:
    return [m["Body"] for m in _receive(sqs, url, **kwargs)]


def test_fifo_batches_are_grouped_and_groups_take_turns(sqs: Any, make_queue: Callable[..., str]) -> None:
    # AWS-validated orderings (upstream test_fifo_receive_message_with_zero_visibility_timeout)
    sends = [("g1-m1", "g1"), ("g2-m1", "g2"), ("g2-m2", "g2"), ("g3-m1", "g3"), ("g1-m2", "g1")]
    url = _fifo(sqs, make_queue, sends)
    assert _bodies(sqs, url, MaxNumberOfMessages=3, VisibilityTimeout=0) == ["g1-m1", "g1-m2", "g2-m1"]
    assert _bodies(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=0) == [
        "g3-m1",
        "g1-m1",
        "g1-m2",
        "g2-m1",
        "g2-m2",
    ]


def test_fifo_group_reopens_when_its_head_is_visible_again(sqs: Any, make_queue: Callable[..., str]) -> None:
    # upstream test_fifo_message_group_visibility_after_terminate_visibility_timeout
    url = _fifo(sqs, make_queue, [("g1-m1", "g1"), ("g1-m2", "g1"), ("g2-m1", "g2")], VisibilityTimeout="30")
    got = _receive(sqs, url, MaxNumberOfMessages=2)
    assert [m["Body"] for m in got] == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert _bodies(sqs, url, MaxNumberOfMessages=3) == ["g2-m1", "g1-m1"]


def test_fifo_partial_delete_keeps_the_group_in_flight(sqs: Any, make_queue: Callable[..., str]) -> None:
    sends = [("g1-m1", "g1"), ("g2-m1", "g2"), ("g1-m2", "g1"), ("g2-m2", "g2"), ("g1-m3", "g1"), ("g3-m1", "g3")]
    url = _fifo(sqs, make_queue, sends)
    got = _receive(sqs, url, MaxNumberOfMessages=2)
    assert [m["Body"] for m in got] == ["g1-m1", "g1-m2"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert _bodies(sqs, url, MaxNumberOfMessages=10) == ["g2-m1", "g2-m2", "g3-m1"]


def test_fifo_batch_without_group_fails_whole(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True)
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "a", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
                {"Id": "b", "MessageBody": "y", "MessageDeduplicationId": "2"},
            ],
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert _receive(sqs, url) == []


def test_batch_limit_is_fixed_while_message_limit_follows_the_queue(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(MaximumMessageSize="2048")
    attrs = {"k": {"DataType": "String", "StringValue": "x"}}
    ok = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "a" * (2048 - 8), "MessageAttributes": attrs},
            {"Id": "2", "MessageBody": "a"},
        ],
    )
    assert len(ok["Successful"]) == 2


def test_sse_attributes(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000"}
    )
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (got["KmsMasterKeyId"], got["KmsDataKeyReusePeriodSeconds"], got["SqsManagedSseEnabled"]) == (
        "testKeyId",
        "6000",
        "false",
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": ""})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "KmsMasterKeyId" not in got and "KmsDataKeyReusePeriodSeconds" not in got
    with pytest.raises(ClientError) as exc:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"})
    assert exc.value.response["Error"]["Code"] == "InvalidAttributeName"


def test_system_attribute_md5_matches_aws(sqs: Any, make_queue: Callable[..., str]) -> None:
    # upstream test_system_attributes_have_no_effect_on_attr_md5 (validated against AWS)
    url = make_queue()
    attrs = {"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}}
    trace = {
        "AWSTraceHeader": {
            "DataType": "String",
            "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        }
    }
    plain = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs)
    traced = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs, MessageSystemAttributes=trace)
    assert plain["MD5OfMessageAttributes"] == traced["MD5OfMessageAttributes"]
    assert "MD5OfMessageSystemAttributes" not in plain
    assert traced["MD5OfMessageSystemAttributes"] == "5ae4d5d7636402d80f4eb6d213245a88"


def test_purge_clears_fifo_deduplication(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue(fifo=True)
    sqs.send_message(QueueUrl=url, MessageBody="message-1", MessageGroupId="g", MessageDeduplicationId="d")
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="message-2", MessageGroupId="g", MessageDeduplicationId="d")
    assert _bodies(sqs, url) == ["message-2"]


def test_invalid_attribute_names_and_values(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sqs.send_message(
        QueueUrl=url, MessageBody="ok", MessageAttributes={"attr.1": {"StringValue": "Valid", "DataType": "String"}}
    )
    bad = [
        {"attr1": {"StringValue": f"Invalid-{chr(8)},{chr(11)}", "DataType": "String"}},
        {"aWs.-Invalid-attr": {"StringValue": "Valid", "DataType": "String"}},
        {"Invalid-!-attr": {"StringValue": "Valid", "DataType": "String"}},
        {"L" * 257: {"StringValue": "Valid", "DataType": "String"}},
        {"Attribute_name": {"StringValue": "Valid", "DataType": "Invalid"}},
        {"Invalid.": {"StringValue": "Valid", "DataType": "String"}},
    ]
    for attributes in bad:
        with pytest.raises(ClientError) as exc:
            sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
        assert exc.value.response["Error"]["Code"] == "InvalidParameterValue", attributes
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody=f"Invalid-{chr(0)}")
    assert exc.value.response["Error"]["Code"] == "InvalidMessageContents"


def test_queue_name_works_as_queue_url(sqs: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    sent = sqs.send_message(QueueUrl=url.rsplit("/", 1)[1], MessageBody="Using name instead of URL")
    assert sent["MD5OfMessageBody"] == "86a83f96652a1bfad3891e7d523750cb"


def test_message_attribute_names_prefix_wildcard(sqs: Any, make_queue: Callable[..., str]) -> None:
    """`Custom.*` returns the attributes whose names start with `Custom.` (ReceiveMessage, MessageAttributeNames)."""
    url = make_queue()
    attributes = {
        name: {"DataType": "String", "StringValue": name} for name in ("Custom.a", "Custom.b.c", "Customer", "Other")
    }
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    [got] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Custom.*"], VisibilityTimeout=0)["Messages"]
    assert sorted(got["MessageAttributes"]) == ["Custom.a", "Custom.b.c"]
    assert got["MD5OfMessageAttributes"] == md5_attributes(
        {k: v for k, v in attributes.items() if k.startswith("Custom.")}
    )


def test_fifo_batch_without_group_id_fails_as_a_whole(sqs: Any, make_queue: Callable[..., str]) -> None:
    """As recorded on AWS (test_send_batch_missing_message_group_id_for_fifo_queue): not a per-entry failure."""
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "ok", "MessageBody": "a", "MessageGroupId": "g"}, {"Id": "bad", "MessageBody": "b"}],
        )
    error = exc.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "The request must contain the parameter MessageGroupId.",
    )
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
