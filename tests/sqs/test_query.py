"""SQS on the query protocol: an older SDK (a client built from botocore's last query-protocol SQS model) and raw
form posts, answered in AWS's XML, beside the json protocol on the same port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tests.conformance.snapshot import RECORDED
from tests.sqs.test_conformance import PREFIX, SQS_FILE

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


def form(url: str, params: dict[str, str]) -> tuple[int, dict[str, str], ET.Element]:
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), ET.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), ET.fromstring(error.read())


def test_an_older_sdk_works_end_to_end(sqs_query: Any, sqs: Any) -> None:
    name = f"query-{uuid.uuid4().hex[:8]}"
    url = sqs_query.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"}, tags={"team": "a"})["QueueUrl"]
    try:
        attrs = {
            "s": {"DataType": "String", "StringValue": "vé"},
            "n": {"DataType": "Number", "StringValue": "12"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        }
        sent = sqs_query.send_message(QueueUrl=url, MessageBody="héllo <&>", MessageAttributes=attrs)
        got = sqs_query.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])
        [message] = got["Messages"]
        assert message["Body"] == "héllo <&>" and message["MessageId"] == sent["MessageId"]
        assert message["MessageAttributes"] == attrs
        assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"
        # the json protocol sees the same queue and message
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
            "Attributes"
        ] == {"ApproximateNumberOfMessagesNotVisible": "1"}
        sqs_query.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        sqs_query.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

        batch = sqs_query.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "one", "MessageBody": "1"},
                {"Id": "two", "MessageBody": "2", "DelaySeconds": 901},
            ],
        )
        assert [e["Id"] for e in batch["Successful"]] == ["one"]
        assert batch["Failed"][0]["Id"] == "two" and batch["Failed"][0]["Code"] == "InvalidParameterValue"
        handle = sqs_query.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
        deleted = sqs_query.delete_message_batch(QueueUrl=url, Entries=[{"Id": "d", "ReceiptHandle": handle}])
        assert deleted["Successful"] == [{"Id": "d"}]

        assert sqs_query.get_queue_url(QueueName=name)["QueueUrl"] == url
        assert url in sqs_query.list_queues(QueueNamePrefix=name)["QueueUrls"]
        sqs_query.tag_queue(QueueUrl=url, Tags={"env": "dev"})
        sqs_query.untag_queue(QueueUrl=url, TagKeys=["team"])
        assert sqs_query.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
        sqs_query.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
        got_attrs = sqs_query.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "VisibilityTimeout"])
        assert got_attrs["Attributes"] == {"DelaySeconds": "3", "VisibilityTimeout": "7"}
        sqs_query.purge_queue(QueueUrl=url)
    finally:
        sqs_query.delete_queue(QueueUrl=url)


def test_errors_as_the_query_api_reports_them(sqs_query: Any) -> None:
    url = sqs_query.create_queue(QueueName=f"query-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs_query.delete_queue(QueueUrl=url)
    try:
        sqs_query.get_queue_attributes(QueueUrl=url)
        raise AssertionError("expected an error")
    except sqs_query.exceptions.ClientError as error:
        live = error.response
    recorded = json.loads((RECORDED / SQS_FILE).read_text())[PREFIX + "TestSqsProvider::test_non_existent_queue"]
    expected = recorded["recorded-content"]["queue-does-not-exist-query"]
    assert live["Error"] == expected["Error"]
    assert live["ResponseMetadata"]["HTTPStatusCode"] == expected["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_raw_form_posts_get_aws_xml(lamina: Any, sqs: Any) -> None:
    name = f"form-{uuid.uuid4().hex[:8]}"
    status, headers, root = form(
        lamina.url + "/",
        {
            "Action": "CreateQueue",
            "Version": "2012-11-05",
            "QueueName": name,
            "Attribute.1.Name": "DelaySeconds",
            "Attribute.1.Value": "0",
        },
    )
    assert status == 200 and headers["Content-Type"] == "text/xml"
    assert root.tag == NS + "CreateQueueResponse"
    url = root.findtext(f"{NS}CreateQueueResult/{NS}QueueUrl")
    assert url is not None and url.endswith("/000000000000/" + name)
    request_id = root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
    assert request_id == headers["x-amzn-RequestId"]

    # posted to the queue's own path, QueueUrl left out: the path names the queue
    status, _, root = form(
        url,
        {
            "Action": "SendMessage",
            "Version": "2012-11-05",
            "MessageBody": "This is a test message",
            "MessageAttribute.1.Name": "test_attribute_name_1",
            "MessageAttribute.1.Value.StringValue": "test_attribute_value_1",
            "MessageAttribute.1.Value.DataType": "String",
        },
    )
    assert status == 200 and root.tag == NS + "SendMessageResponse"
    result = root.find(NS + "SendMessageResult")
    assert result is not None
    order = [child.tag.removeprefix(NS) for child in result]
    assert order == ["MD5OfMessageBody", "MD5OfMessageAttributes", "MessageId"]
    assert result.findtext(NS + "MD5OfMessageBody") == "fafb00f5732ab283681e124bf8747ed1"  # AWS's documented example

    status, _, root = form(
        lamina.url + "/",
        {
            "Action": "ReceiveMessage",
            "Version": "2012-11-05",
            "QueueUrl": url,
            "AttributeName.1": "All",
            "MessageAttributeName.1": "All",
        },
    )
    message = root.find(f"{NS}ReceiveMessageResult/{NS}Message")
    assert status == 200 and message is not None
    assert message.findtext(NS + "Body") == "This is a test message"
    names = {a.findtext(NS + "Name") for a in message.findall(NS + "Attribute")}
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount"} <= names
    attribute = message.find(NS + "MessageAttribute")
    assert attribute is not None and attribute.findtext(NS + "Name") == "test_attribute_name_1"
    assert attribute.findtext(f"{NS}Value/{NS}StringValue") == "test_attribute_value_1"

    # the json protocol still answers on the same path
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    form(lamina.url + "/", {"Action": "DeleteQueue", "Version": "2012-11-05", "QueueUrl": url})


def test_form_errors_are_xml_with_aws_statuses(lamina: Any) -> None:
    status, _, root = form(
        lamina.url + "/000000000000/no-such-queue",
        {"Action": "SendMessage", "Version": "2012-11-05", "MessageBody": "x"},
    )
    assert status == 400 and root.tag == NS + "ErrorResponse"
    assert [child.tag.removeprefix(NS) for child in root] == ["Error", "RequestId"]
    error = root.find(NS + "Error")
    assert error is not None
    assert [(child.tag.removeprefix(NS), child.text) for child in error] == [
        ("Type", "Sender"),
        ("Code", "AWS.SimpleQueueService.NonExistentQueue"),
        ("Message", "The specified queue does not exist for this wsdl version."),
        ("Detail", None),
    ]
    name = f"form-{uuid.uuid4().hex[:8]}"
    _, _, root = form(lamina.url + "/", {"Action": "CreateQueue", "Version": "2012-11-05", "QueueName": name})
    url = root.findtext(f"{NS}CreateQueueResult/{NS}QueueUrl")
    assert url is not None
    form(url, {"Action": "PurgeQueue", "Version": "2012-11-05"})
    status, _, root = form(url, {"Action": "PurgeQueue", "Version": "2012-11-05"})
    assert status == 403 and root.findtext(f"{NS}Error/{NS}Code") == "AWS.SimpleQueueService.PurgeQueueInProgress"
    status, _, root = form(url, {"Action": "ReceiveMessage", "Version": "2012-11-05", "MaxNumberOfMessages": "ten"})
    assert status == 400 and root.findtext(f"{NS}Error/{NS}Code") == "InvalidParameterValue"
    status, _, root = form(url, {"Action": "NoSuchAction", "Version": "2012-11-05"})
    assert 400 <= status < 500 and root.tag == NS + "ErrorResponse"
    form(url, {"Action": "DeleteQueue", "Version": "2012-11-05"})


def test_bodies_come_back_byte_for_byte(sqs_query: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    body = '"&quot;&quot;\r\n<x a="1">\t\U0001f600</x>'  # upstream test_send_receive_message_encoded_content, and more
    sqs_query.send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes={"a": {"DataType": "String", "StringValue": "\r"}}
    )
    [message] = sqs_query.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == body and message["MessageAttributes"]["a"]["StringValue"] == "\r"


def test_a_plain_get_with_action_in_the_query_string(lamina: Any, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    with urllib.request.urlopen(f"{lamina.url}/?Action=ListQueues&Version=2012-11-05", timeout=10) as response:
        raw = response.read()
    assert raw.startswith(
        b'<?xml version="1.0"?><ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
    )
    root = ET.fromstring(raw)
    assert root.tag == NS + "ListQueuesResponse"
    assert url in [e.text for e in root.findall(f"{NS}ListQueuesResult/{NS}QueueUrl")]
