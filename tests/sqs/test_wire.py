"""The json protocol on the wire, without boto3: routing by X-Amz-Target (signed or not, at / or at the
queue's path), the content type, and errors as botocore reads them (`__type` + `x-amzn-query-error`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def post(url: str, action: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"X-Amz-Target": f"AmazonSQS.{action}", "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_unsigned_json_requests_are_routed_by_target(lamina: Any) -> None:
    name = f"wire-{uuid.uuid4().hex[:8]}"
    status, headers, body = post(lamina.url + "/", "CreateQueue", {"QueueName": name})
    assert status == 200 and headers["Content-Type"] == "application/x-amz-json-1.0"
    url = body["QueueUrl"]
    # a request may also be posted to the queue's own URL, as some SDKs do
    status, _, sent = post(url, "SendMessage", {"QueueUrl": url, "MessageBody": "hi"})
    assert status == 200 and sent["MD5OfMessageBody"] == "49f68a5c8493ec2c0bf489821c21fc3b"
    status, _, got = post(lamina.url + "/", "ReceiveMessage", {"QueueUrl": url})
    assert got["Messages"][0]["Body"] == "hi"
    post(lamina.url + "/", "DeleteQueue", {"QueueUrl": url})


def test_errors_carry_type_and_query_code(lamina: Any) -> None:
    status, headers, body = post(lamina.url + "/", "GetQueueUrl", {"QueueName": "missing-queue"})
    assert status == 400
    assert body == {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


def test_lambda_is_unaffected(lamina: Any) -> None:
    with urllib.request.urlopen(lamina.url + "/2015-03-31/functions/", timeout=10) as response:
        assert response.status == 200 and "Functions" in json.loads(response.read())


def test_hostile_requests_get_4xx_not_5xx(lamina: Any) -> None:
    root = lamina.url + "/"
    _, _, created = post(root, "CreateQueue", {"QueueName": f"hostile-{uuid.uuid4().hex[:8]}"})
    url = created["QueueUrl"]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("SendMessage", {}),
        ("SendMessage", {"QueueUrl": 5, "MessageBody": "x"}),
        ("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "ten"}),
        ("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": ""}),
        (
            "CreateQueue",
            {"QueueName": "y", "Attributes": {"RedrivePolicy": '{"deadLetterTargetArn": 5, "maxReceiveCount": 1}'}},
        ),
        ("CreateQueue", {"QueueName": "y", "Attributes": {"RedrivePolicy": "[1]"}}),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a"}]}),
        (
            "SendMessage",
            {
                "QueueUrl": url,
                "MessageBody": "x",
                "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "!!"}},
            },
        ),
        ("NoSuchOperation", {}),
    ]
    for action, body in cases:
        status, _, answer = post(root, action, body)
        assert 400 <= status < 500, (action, body, answer)
        assert answer["__type"].startswith("com.amazonaws.sqs#"), answer
    post(root, "DeleteQueue", {"QueueUrl": url})
