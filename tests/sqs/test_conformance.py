"""Replays the json-protocol (`[sqs]`) entries of test_sqs.snapshot.json that apply to what Lamina serves.

Each scenario makes the calls upstream's test of the same id made (localstack tests/aws/services/sqs/
test_sqs.py, read as facts from its source at a nearby commit; the calls of the message system attribute filters,
whose body was not read, mirror its AttributeNames twin) and
compares every response with the recording through tests/conformance/snapshot.py's normaliser.

Timestamps in SQS attributes are recorded as the literal "timestamp"; live values are masked the same way
before comparison. Queue URLs are compared by their account and name (the recordings' host is LocalStack's).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.snapshot import RECORDED, Bindings, Replay, clean, verify_responses

SQS_FILE = "services__sqs__test_sqs.snapshot.json"
PREFIX = "tests/aws/services/sqs/test_sqs.py::"
REGION = "us-east-1"
TIMESTAMPS = frozenset(
    {"CreatedTimestamp", "LastModifiedTimestamp", "SentTimestamp", "ApproximateFirstReceiveTimestamp"}
)
RESULTS: list[tuple[str, str, bool]] = []  # (entry, response, matched); tests/sqs/conftest.py prints the summary


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "timestamp" if k in TIMESTAMPS and isinstance(v, str) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class SqsReplay(Replay):
    def __init__(self, test_id: str, base_url: str) -> None:
        self.test_id = test_id
        self.recorded = json.loads((RECORDED / SQS_FILE).read_text())[PREFIX + test_id]["recorded-content"]
        self.known = None
        self.bindings = Bindings({"<partition>": "aws", "<region>": REGION})
        self.live = {}
        self._base = base_url

    def match(self, name: str, live: Any) -> Any:
        assert name in self.recorded, f"{self.test_id} has no recorded response {name!r}"
        text = json.dumps(clean(_mask(live)), default=str).replace(
            self._base, "http://sqs.<region>.localhost.localstack.cloud:4566"
        )
        self.live[name] = json.loads(text)
        return live

    def verify(self) -> None:
        verify_responses(self.test_id, self.recorded, self.live, self.bindings, RESULTS)


def _name(suffix: str = "") -> str:
    return f"queue-{uuid.uuid4().hex[:8]}{suffix}"


Scenario = Callable[[Any, SqsReplay, Any], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*test_ids: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        for test_id in test_ids:
            SCENARIOS[test_id] = fn
        return fn

    return register


@scenario("TestSqsProvider::test_send_receive_max_number_of_messages[sqs]")
def _max_number(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call("send_max_number_of_messages", sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)


ATTRS = {"k": {"DataType": "String", "StringValue": "x"}}
ATTRS_SIZE = len("k") + len("String") + len("x")


@scenario("TestSqsProvider::test_send_oversized_message[sqs]")
def _oversized(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    body = "a" * (1048576 - ATTRS_SIZE + 1)
    r.call("send_oversized_message", sqs.send_message, QueueUrl=url, MessageBody=body, MessageAttributes=ATTRS)


@scenario("TestSqsProvider::test_send_message_with_updated_maximum_message_size[sqs]")
def _oversized_updated(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    body = "a" * (1024 - ATTRS_SIZE + 1)
    r.call("send_oversized_message", sqs.send_message, QueueUrl=url, MessageBody=body, MessageAttributes=ATTRS)


@scenario("TestSqsProvider::test_send_message_batch_with_oversized_contents[sqs]")
def _oversized_batch(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    entries = [
        {"Id": "1", "MessageBody": "a" * (1048576 - ATTRS_SIZE), "MessageAttributes": ATTRS},
        {"Id": "2", "MessageBody": "a"},
    ]
    r.call("send_oversized_message_batch", sqs.send_message_batch, QueueUrl=url, Entries=entries)


@scenario("TestSqsProvider::test_send_message_batch_with_oversized_contents_with_updated_maximum_message_size[sqs]")
def _oversized_batch_updated(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "2048"})
    entries = [
        {"Id": "1", "MessageBody": "a" * (2048 - ATTRS_SIZE), "MessageAttributes": ATTRS},
        {"Id": "2", "MessageBody": "a"},
    ]
    r.call("send_oversized_message_batch", sqs.send_message_batch, QueueUrl=url, Entries=entries)


@scenario("TestSqsProvider::test_sse_kms_and_sqs_are_mutually_exclusive[sqs]")
def _sse_exclusive(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    try:
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId", "SqsManagedSseEnabled": "true"}
        )
    except sqs.exceptions.ClientError as error:
        r.match("error", str(error))


@scenario("TestSqsProvider::test_sse_queue_attributes[sqs]")
def _sse_attributes(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    names = ["KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"]
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "KmsMasterKeyId": "testKeyId",
            "KmsDataKeyReusePeriodSeconds": "6000",
            "SqsManagedSseEnabled": "false",
        },
    )
    r.call("sse_kms_attributes", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=names)
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    r.call("sse_sqs_attributes", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=names)


@scenario("TestSqsProvider::test_fifo_set_content_based_deduplication_strategy[sqs]")
def _cbd_strategy(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(
        QueueName=_name(".fifo"),
        Attributes={"FifoQueue": "true", "SqsManagedSseEnabled": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    r.call("before-update", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    r.call("after-update", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])


def _fifo_batch_missing(name: str, drop: str) -> Scenario:
    def run(sqs: Any, r: SqsReplay, lamina: Any) -> None:
        url = sqs.create_queue(
            QueueName=_name(".fifo"), Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        second = {
            "Id": "message-2",
            "MessageBody": "messageBody",
            "MessageGroupId": "test-group",
            "MessageDeduplicationId": "dedup-2",
        }
        del second[drop]
        entries = [
            {
                "Id": "message-1",
                "MessageBody": "messageBody",
                "MessageGroupId": "test-group",
                "MessageDeduplicationId": "dedup-1",
            },
            second,
        ]
        r.call(name, sqs.send_message_batch, QueueUrl=url, Entries=entries)

    return run


SCENARIOS["TestSqsProvider::test_send_batch_missing_deduplication_id_for_fifo_queue[sqs]"] = _fifo_batch_missing(
    "test_missing_deduplication_id_for_fifo_queue", "MessageDeduplicationId"
)
SCENARIOS["TestSqsProvider::test_send_batch_missing_message_group_id_for_fifo_queue[sqs]"] = _fifo_batch_missing(
    "test_missing_message_group_id_for_fifo_queue", "MessageGroupId"
)


@scenario("TestSqsProvider::test_fifo_queue_send_message_with_delay_seconds_fails[sqs]")
def _fifo_delay(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(
        QueueName=_name(".fifo"), Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    r.call("send_message", sqs.send_message, QueueUrl=url, MessageBody="message-1", MessageGroupId="1", DelaySeconds=2)


def _dedup_after_delete(content_based: bool) -> Scenario:
    def run(sqs: Any, r: SqsReplay, lamina: Any) -> None:
        attributes = {"FifoQueue": "true"}
        if content_based:
            attributes["ContentBasedDeduplication"] = "true"
        url = sqs.create_queue(QueueName=_name(".fifo"), Attributes=attributes)["QueueUrl"]
        kwargs = {} if content_based else {"MessageDeduplicationId": "dedup1"}
        item = '{"foo": "bar"}'
        sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-1", **kwargs)
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
        handle = got["Messages"][0]["ReceiptHandle"]
        for m in got["Messages"]:  # upstream's sqs_api transformer shows JSON bodies parsed
            m["Body"] = json.loads(m["Body"])
        r.match("get-messages", got)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-1", **kwargs)
        r.call("get-messages-duplicate", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=1)

    return run


SCENARIOS["TestSqsProvider::test_fifo_deduplication_arrives_once_after_delete[sqs-True]"] = _dedup_after_delete(True)
SCENARIOS["TestSqsProvider::test_fifo_deduplication_arrives_once_after_delete[sqs-False]"] = _dedup_after_delete(False)


@scenario("TestSqsProvider::test_tag_untag_queue[sqs]")
def _tags(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    r.call("get-tag-1", sqs.list_queue_tags, QueueUrl=url)
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag1", "tag3", "tag4"])
    r.call("get-tag-2", sqs.list_queue_tags, QueueUrl=url)
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag2"])
    r.call("get-tag-after-untag", sqs.list_queue_tags, QueueUrl=url)


@scenario("TestSqsProvider::test_create_queue_with_different_attributes_raises_exception[sqs]")
def _different_attributes(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    name = _name()
    sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "1"})
    r.call("create_queue_01", sqs.create_queue, QueueName=name, Attributes={"DelaySeconds": "2"})
    r.call("create_queue_02", sqs.create_queue, QueueName=name, Attributes={"DelaySeconds": "0"})


@scenario("TestSqsProvider::test_create_fifo_queue_with_different_attributes_raises_error[sqs]")
def _fifo_different(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    name = _name(".fifo")
    sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    r.call(
        "queue-already-exists",
        sqs.create_queue,
        QueueName=name,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )


@scenario("TestSqsProvider::test_create_and_update_queue_attributes[sqs]")
def _attributes(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(
        QueueName=_name(),
        Attributes={
            "MessageRetentionPeriod": "604800",
            "ReceiveMessageWaitTimeSeconds": "10",
            "VisibilityTimeout": "20",
        },
    )["QueueUrl"]
    r.call("get_queue_attributes", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"DelaySeconds": "420", "VisibilityTimeout": "69", "MaximumMessageSize": "2048"}
    )
    r.call("get_updated_queue_attributes", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])


@scenario("TestSqsProvider::test_change_message_visibility_after_visibility_timeout_expiration[sqs]")
def _visibility_expired(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="test")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    r.call(
        "visibility_timeout_expired",
        sqs.change_message_visibility,
        QueueUrl=url,
        ReceiptHandle=handle,
        VisibilityTimeout=1,
    )


def _delete_after_timeout(fifo: bool, extend: bool, name: str) -> Scenario:
    """A 1-second visibility timeout runs out before the delete (upstream sleeps the same way)."""

    def run(sqs: Any, r: SqsReplay, lamina: Any) -> None:
        attributes = {"VisibilityTimeout": "1"}
        if fifo:
            attributes.update(FifoQueue="true", ContentBasedDeduplication="true")
        url = sqs.create_queue(QueueName=_name(".fifo" if fifo else ""), Attributes=attributes)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="foobar", **({"MessageGroupId": "1"} if fifo else {}))
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        handle = got["Messages"][0]["ReceiptHandle"]
        if fifo:
            r.match("received_sqs_message", got)
        if extend:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=4)
        time.sleep(1.2)
        if fifo:
            r.call(name, sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
        else:  # the newest handle still deletes on a standard queue: the queue is empty
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
            r.call(name, sqs.receive_message, QueueUrl=url)

    return run


SCENARIOS["TestSqsProvider::test_delete_after_visibility_timeout[sqs]"] = _delete_after_timeout(
    False, False, "delete_after_timeout_queue_empty"
)
SCENARIOS["TestSqsProvider::test_fifo_delete_after_visibility_timeout[sqs]"] = _delete_after_timeout(
    True, False, "delete_after_timeout_fifo"
)
SCENARIOS["TestSqsProvider::test_fifo_delete_after_visibility_timeout_extended[sqs]"] = _delete_after_timeout(
    True, True, "delete_after_timeout_fifo_extended"
)


@scenario("TestSqsProvider::test_fifo_message_attributes[sqs]")
def _fifo_attributes(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(
        QueueName=_name(".fifo"),
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "VisibilityTimeout": "0",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )["QueueUrl"]
    r.call(
        "send_message",
        sqs.send_message,
        QueueUrl=url,
        MessageBody="message-body-1",
        MessageGroupId="group-1",
        MessageDeduplicationId="dedup-1",
    )
    r.call("receive_message_0", sqs.receive_message, QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=10)
    r.call("receive_message_1", sqs.receive_message, QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=10)


@scenario("TestSqsProvider::test_too_many_entries_in_batch_request[sqs]")
def _too_many(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call(
        "test_too_many_entries_in_batch_request",
        sqs.send_message_batch,
        QueueUrl=url,
        Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(20)],
    )


@scenario("TestSqsProvider::test_invalid_batch_id[sqs]")
def _invalid_batch_id(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call("test_invalid_batch_id", sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "a:b", "MessageBody": "m"}])


def _delete_batch_invalid(entry_id: str) -> Scenario:
    def run(sqs: Any, r: SqsReplay, lamina: Any) -> None:
        url = sqs.create_queue(QueueName=_name())["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m")
        handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
        r.call(
            "error_response",
            sqs.delete_message_batch,
            QueueUrl=url,
            Entries=[{"Id": entry_id, "ReceiptHandle": handle}],
        )

    return run


for _id in ("", "testLongId" * 10, "invalid:id"):
    SCENARIOS[f"TestSqsProvider::test_delete_message_batch_invalid_msg_id[sqs-{_id}]"] = _delete_batch_invalid(_id)


@scenario("TestSqsProvider::test_delete_message_batch_with_too_large_batch[sqs]")
def _delete_too_many(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call(
        "error_response",
        sqs.delete_message_batch,
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": "x"} for i in range(20)],
    )


@scenario("TestSqsProvider::test_change_message_visibility_batch_with_too_large_batch[sqs]")
def _change_too_many(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call(
        "error_response",
        sqs.change_message_visibility_batch,
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": "x", "VisibilityTimeout": 1} for i in range(20)],
    )


@scenario("TestSqsProvider::test_send_message_with_binary_attributes[sqs]")
def _binary(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    value = b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"
    sqs.send_message(
        QueueUrl=url, MessageBody="test", MessageAttributes={"attr1": {"DataType": "Binary", "BinaryValue": value}}
    )
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])
    for m in got["Messages"]:  # upstream snapshots the bytes' repr
        m["MessageAttributes"]["attr1"]["BinaryValue"] = str(m["MessageAttributes"]["attr1"]["BinaryValue"])
    r.match("binary-attrs-msg", got)


@scenario("TestSqsProvider::test_send_message_with_empty_string_attribute[sqs]")
def _empty_attr(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call(
        "empty-string-attr",
        sqs.send_message,
        QueueUrl=url,
        MessageBody="test",
        MessageAttributes={"ErrorDetails": {"DataType": "String", "StringValue": ""}},
    )


@scenario("TestSqsProvider::test_successive_purge_calls_fail[sqs]")
def _purge(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    name = _name()
    r.bindings.bind("<queue-name>", name)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    r.call("purge_queue_error", sqs.purge_queue, QueueUrl=url)


@scenario("TestSqsProvider::test_receive_message_attribute_names_filters[sqs]")
def _attribute_names(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name(), Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(
        QueueUrl=url, MessageBody="msg", MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}}
    )
    r.call("all_attributes", sqs.receive_message, QueueUrl=url, AttributeNames=["All"])
    r.call(
        "all_system_and_message_attributes",
        sqs.receive_message,
        QueueUrl=url,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    r.call("single_attribute", sqs.receive_message, QueueUrl=url, AttributeNames=["SenderId"])
    r.call("multiple_attributes", sqs.receive_message, QueueUrl=url, AttributeNames=["SenderId", "SequenceNumber"])


@scenario("TestSqsProvider::test_receive_message_message_system_attribute_names_filters[sqs]")
def _system_names(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name(), Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(
        QueueUrl=url, MessageBody="msg", MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}}
    )
    r.call("all_attributes", sqs.receive_message, QueueUrl=url, MessageSystemAttributeNames=["All"])
    r.call(
        "all_system_and_message_attributes",
        sqs.receive_message,
        QueueUrl=url,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    r.call("single_attribute", sqs.receive_message, QueueUrl=url, MessageSystemAttributeNames=["SenderId"])
    r.call(
        "multiple_attributes",
        sqs.receive_message,
        QueueUrl=url,
        MessageSystemAttributeNames=["SenderId", "SequenceNumber"],
    )


@scenario("TestSqsProvider::test_receive_message_message_attribute_names_filters[sqs]")
def _message_attribute_names(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name(), Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    attrs = {
        n: {"DataType": "String", "StringValue": v}
        for n, v in (("Hello", "There"), ("General", "Kenobi"), ("Help.Me", "Me"))
    }
    r.call("send_message_response", sqs.send_message, QueueUrl=url, MessageBody="msg", MessageAttributes=attrs)
    r.call("empty_filter", sqs.receive_message, QueueUrl=url)
    r.call("all_name", sqs.receive_message, QueueUrl=url, MessageAttributeNames=["All"])
    r.match("all_wildcard_asterisk", sqs.receive_message(QueueUrl=url, MessageAttributeNames=["*"])["Messages"][0])
    r.match("all_wildcard", sqs.receive_message(QueueUrl=url, MessageAttributeNames=[".*"])["Messages"][0])
    r.match(
        "only_non_existing_names",
        sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Foo", "Help"])["Messages"][0],
    )


@scenario("TestSqsProvider::test_send_empty_message[sqs]")
def _empty(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call("send_empty_message", sqs.send_message, QueueUrl=url, MessageBody="")


@scenario("TestSqsProvider::test_receive_empty_queue[sqs]")
def _receive_empty(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call("empty_short_poll_resp_no_param", sqs.receive_message, QueueUrl=url)
    r.call("empty_short_poll_resp", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=0)
    r.call("empty_long_poll_resp", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=1)


@scenario("TestSqsProvider::test_send_receive_wait_time_seconds[sqs]")
def _wait_time(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    r.call("recieve_message_error_too_large", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=21)
    r.call("recieve_message_error_too_small", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=-1)
    sqs.send_message(QueueUrl=url, MessageBody="message")
    got = r.call("empty_short_poll_by_default_resp", sqs.receive_message, QueueUrl=url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="message")
    r.call("empty_short_poll_explicit_resp", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=0)


@scenario("TestSqsProvider::test_posting_to_fifo_requires_deduplicationid_group_id[sqs]")
def _fifo_requires(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name(".fifo"), Attributes={"FifoQueue": "true"})["QueueUrl"]
    r.call("invalid-parameter-value", sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="g")
    r.call("missing-parameter", sqs.send_message, QueueUrl=url, MessageBody="m", MessageDeduplicationId="d")


@scenario("TestSqsProvider::test_non_existent_queue")
def _non_existent(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    r.call("queue-does-not-exist", sqs.get_queue_attributes, QueueUrl=url)
    r.call("queue-does-not-exist-url", sqs.get_queue_url, QueueName=url.rsplit("/", 1)[1])


@scenario("TestSqsProvider::test_dead_letter_queue_message_attributes")
def _dlq(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    dlq = sqs.create_queue(QueueName=_name())["QueueUrl"]
    dlq_arn = r.match(
        "dlq-arn", sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )
    src = sqs.create_queue(
        QueueName=_name(),
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})},
    )["QueueUrl"]
    r.match(
        "sourcen-arn", sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sqs.send_message(
        QueueUrl=src,
        MessageBody="message-1",
        MessageAttributes={"MyAttribute": {"DataType": "String", "StringValue": "foobar"}},
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    sqs.send_message(QueueUrl=src, MessageBody="message-2")
    got = sqs.receive_message(
        QueueUrl=src,
        VisibilityTimeout=0,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=[
            "ApproximateFirstReceiveTimestamp",
            "ApproximateReceiveCount",
            "SentTimestamp",
            "AWSTraceHeader",
        ],
    )
    r.match("rec-pre-dlq", got["Messages"])
    assert sqs.receive_message(QueueUrl=src).get("Messages") is None
    dead = sqs.receive_message(
        QueueUrl=dlq,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=[
            "ApproximateFirstReceiveTimestamp",
            "ApproximateReceiveCount",
            "SentTimestamp",
            "AWSTraceHeader",
            "DeadLetterQueueSourceArn",
        ],
    )
    r.match("dlq-messages", dead["Messages"])


@scenario("TestSqsProvider::test_sqs_permission_lifecycle[sqs]")
def _permissions(sqs: Any, r: SqsReplay, lamina: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    account = "000000000000"

    def policy(name: str) -> None:
        got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        if "Attributes" in got:  # upstream's sqs_api transformer shows the policy parsed
            got["Attributes"]["Policy"] = json.loads(got["Attributes"]["Policy"])
        r.match(name, got)

    label, label2 = "crossaccountpermission", "crossaccountpermission2"
    r.call(
        "add-permission-response",
        sqs.add_permission,
        QueueUrl=url,
        AWSAccountIds=[account, "668614515564"],
        Actions=["ReceiveMessage"],
        Label=label,
    )
    policy("get-queue-policy-attribute")
    r.call("remove-permission-response", sqs.remove_permission, QueueUrl=url, Label=label)
    policy("get-queue-policy-attribute-after-removal")
    sqs.add_permission(QueueUrl=url, AWSAccountIds=[account], Actions=["ReceiveMessage"], Label=label)
    policy("get-queue-policy-attribute-first-account-same-label")
    r.call(
        "get-queue-policy-attribute-second-account-same-label",
        sqs.add_permission,
        QueueUrl=url,
        AWSAccountIds=["668614515564"],
        Actions=["ReceiveMessage"],
        Label=label,
    )
    sqs.add_permission(QueueUrl=url, AWSAccountIds=[account], Actions=["ReceiveMessage"], Label=label2)
    policy("get-queue-policy-attribute-second-account-different-label")
    sqs.remove_permission(QueueUrl=url, Label=label)
    policy("get-queue-policy-attribute-delete-first-permission")
    sqs.remove_permission(QueueUrl=url, Label=label2)
    policy("get-queue-policy-attribute-delete-second-permission")
    r.call("get-queue-policy-attribute-delete-non-existent-label", sqs.remove_permission, QueueUrl=url, Label=label2)


@pytest.mark.parametrize("test_id", sorted(SCENARIOS))
def test_recorded(test_id: str, sqs: Any, lamina: Any) -> None:
    replay = SqsReplay(test_id, lamina.url)
    SCENARIOS[test_id](sqs, replay, lamina)
    replay.verify()


def _query_twins() -> dict[str, str]:
    """`[sqs_query]` entries (the same test through a query-protocol client) of the scenarios above."""
    recorded = json.loads((RECORDED / SQS_FILE).read_text())
    twins = {test_id.replace("[sqs", "[sqs_query", 1): test_id for test_id in SCENARIOS if "[sqs" in test_id}
    # MessageSystemAttributeNames came after the query protocol: the older SDK cannot send it.
    return {k: v for k, v in twins.items() if PREFIX + k in recorded and "message_system_attribute_names" not in k}


QUERY_TWINS = _query_twins()


@pytest.mark.parametrize("test_id", sorted(QUERY_TWINS))
def test_recorded_on_the_query_protocol(test_id: str, sqs_query: Any, lamina: Any) -> None:
    replay = SqsReplay(test_id, lamina.url)
    for response in replay.recorded.values():  # the recording client's botocore adds QueryErrorCode from the json
        if isinstance(response, dict):  # model's error shapes; it is not on the wire and an older SDK has none
            response.get("Error", {}).pop("QueryErrorCode", None)
    SCENARIOS[QUERY_TWINS[test_id]](sqs_query, replay, lamina)
    replay.verify()


def test_every_json_entry_is_replayed_or_explained() -> None:
    recorded = json.loads((RECORDED / SQS_FILE).read_text())
    json_entries = [k.removeprefix(PREFIX) for k in recorded if "sqs_query" not in k]
    assert set(SCENARIOS) <= set(json_entries)
    assert re.search(r"\[sqs", " ".join(SCENARIOS))
