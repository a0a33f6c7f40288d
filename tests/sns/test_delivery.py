"""SNS delivery: fan-out to SQS queues and Lambda functions, filter policies, RawMessageDelivery, the SNS → Lambda
event shape and resource-policy enforcement, and SNS as an async OnFailure destination / dead-letter target."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE

ECHO = """
def handler(event, context):
    if event.get("raise_error"):
        raise Exception("Test exception (this is intentional)")
    return event
"""


def _drain(sqs: Any, url: str, expect: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Receives until `expect` messages arrived (then waits a moment more for unexpected extras)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = 1 if len(got) >= expect else 2
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(batch)
        if not batch and len(got) >= expect:
            break
    return got


def _function(lambda_client: Any, name: str, **extra: Any) -> str:
    arn: str = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": ECHO})},
        **extra,
    )["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    return arn


def test_sqs_delivery_wraps_the_message(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    published = sns.publish(
        TopicArn=topic,
        Message="Test msg",
        Subject="Greeting",
        MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "100.12"}},
    )
    [message] = _drain(sqs, url, 1)
    body = json.loads(message["Body"])
    assert list(body) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == published["MessageId"]
    assert body["TopicArn"] == topic and body["Subject"] == "Greeting" and body["Message"] == "Test msg"
    assert body["SignatureVersion"] == "1"
    assert body["UnsubscribeURL"].endswith(f"/?Action=Unsubscribe&SubscriptionArn={sub}")
    assert body["MessageAttributes"] == {"attr1": {"Type": "Number", "Value": "100.12"}}
    assert body["Timestamp"].endswith("Z") and len(body["Timestamp"]) == 24
    assert "MessageAttributes" not in message  # wrapped: the attributes are inside the body


def test_raw_message_delivery(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(
        TopicArn=topic, Message="Test msg", MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "99.12"}}
    )
    [message] = _drain(sqs, url, 1)
    assert message["Body"] == "Test msg"
    assert message["MessageAttributes"] == {"attr1": {"DataType": "Number", "StringValue": "99.12"}}
    assert message["MD5OfMessageAttributes"] == "d302007e9aa062660afc85fd0a482472"  # as recorded from AWS


def test_message_structure_json_per_protocol(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "only default"}))
    bodies = sorted(m["Body"] for m in _drain(sqs, url, 2))
    assert bodies == ["for sqs", "only default"]


def test_publish_batch_reaches_the_queue(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    result = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {
                "Id": f"m{i}",
                "Message": f"message {i}",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}},
            }
            for i in range(5)
        ],
    )
    assert [s["Id"] for s in result["Successful"]] == [f"m{i}" for i in range(5)]
    assert result["Failed"] == []
    bodies = sorted(m["Body"] for m in _drain(sqs, url, 5))
    assert bodies == [f"message {i}" for i in range(5)]


@pytest.mark.slow
def test_fan_out_to_two_queues_and_a_function_with_a_filter_policy(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any
) -> None:
    """The issue's must-show: one topic, two SQS queues and a Lambda function; the second queue's filter policy
    routes only matching messages; the function's invocations are observed through its OnSuccess queue."""
    topic = make_topic()
    all_url, all_arn = make_queue()
    filtered_url, filtered_arn = make_queue()
    outcome_url, outcome_arn = make_queue()
    name = f"fn-{uuid.uuid4().hex[:12]}"
    function_arn = _function(lambda_client, name)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
        )
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic,
        )
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=all_arn, Attributes={"RawMessageDelivery": "true"})
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=filtered_arn,
            Attributes={
                "RawMessageDelivery": "true",
                "FilterPolicy": json.dumps({"color": ["red", {"prefix": "bl"}], "size": [{"numeric": [">", 10]}]}),
            },
        )
        lambda_sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)["SubscriptionArn"]

        def attrs(color: str, size: int) -> dict[str, Any]:
            return {
                "color": {"DataType": "String", "StringValue": color},
                "size": {"DataType": "Number", "StringValue": str(size)},
            }

        sns.publish(TopicArn=topic, Message="red-20", MessageAttributes=attrs("red", 20))
        sns.publish(TopicArn=topic, Message="blue-11", MessageAttributes=attrs("blue", 11))
        sns.publish(TopicArn=topic, Message="green-20", MessageAttributes=attrs("green", 20))
        sns.publish(TopicArn=topic, Message="red-5", MessageAttributes=attrs("red", 5))
        sns.publish(TopicArn=topic, Message="no-attributes", Subject="S")

        everything = ["blue-11", "green-20", "no-attributes", "red-20", "red-5"]
        assert sorted(m["Body"] for m in _drain(sqs, all_url, 5)) == everything
        assert sorted(m["Body"] for m in _drain(sqs, filtered_url, 2)) == ["blue-11", "red-20"]
        records = [json.loads(m["Body"]) for m in _drain(sqs, outcome_url, 5, timeout=60)]
        events = [r["requestPayload"] for r in records]
        assert sorted(e["Records"][0]["Sns"]["Message"] for e in events) == everything
        # SNS's event shape (events.md §3)
        event = next(e for e in events if e["Records"][0]["Sns"]["Message"] == "no-attributes")
        [record] = event["Records"]
        assert list(record) == ["EventSource", "EventVersion", "EventSubscriptionArn", "Sns"]
        assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == lambda_sub
        assert set(record["Sns"]) == {
            "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
            "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes",
        }  # fmt: skip
        assert record["Sns"]["Subject"] == "S" and record["Sns"]["TopicArn"] == topic
        assert record["Sns"]["MessageAttributes"] == {}
        red = next(e for e in events if e["Records"][0]["Sns"]["Message"] == "red-20")["Records"][0]["Sns"]
        assert red["Subject"] is None
        assert red["MessageAttributes"] == {
            "color": {"Type": "String", "Value": "red"},
            "size": {"Type": "Number", "Value": "20"},
        }
    finally:
        lambda_client.delete_function(FunctionName=name)


@pytest.mark.slow
def test_lambda_subscription_needs_the_resource_policy(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any
) -> None:
    topic = make_topic()
    other_topic = make_topic()
    outcome_url, outcome_arn = make_queue()
    name = f"fn-{uuid.uuid4().hex[:12]}"
    function_arn = _function(lambda_client, name)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
        )
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
        sns.publish(TopicArn=topic, Message="no permission")
        # a permission for another topic does not count either
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="other",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=other_topic,
        )
        sns.publish(TopicArn=topic, Message="wrong source")
        assert _drain(sqs, outcome_url, 0, timeout=4) == []
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic,
        )
        sns.publish(TopicArn=topic, Message="allowed")
        [record] = [json.loads(m["Body"]) for m in _drain(sqs, outcome_url, 1, timeout=60)]
        assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "allowed"
    finally:
        lambda_client.delete_function(FunctionName=name)


@pytest.mark.slow
def test_on_failure_destination_is_an_sns_topic(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any
) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    name = f"fn-{uuid.uuid4().hex[:12]}"
    _function(lambda_client, name)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}}
        )
        lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"raise_error": 1}))
        [message] = _drain(sqs, url, 1, timeout=60)
        record = json.loads(message["Body"])
        assert record["version"] == "1.0"
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
        assert record["requestPayload"] == {"raise_error": 1}
        assert record["responseContext"]["functionError"] == "Unhandled"
    finally:
        lambda_client.delete_function(FunctionName=name)


@pytest.mark.slow
def test_dead_letter_topic_gets_the_event_and_its_attributes(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any
) -> None:
    topic = make_topic()
    url, qarn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    name = f"fn-{uuid.uuid4().hex[:12]}"
    _function(lambda_client, name, DeadLetterConfig={"TargetArn": topic})
    try:
        lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        response = lambda_client.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"raise_error": 1})
        )
        request_id = response["ResponseMetadata"]["RequestId"]
        [message] = _drain(sqs, url, 1, timeout=60)
        body = json.loads(message["Body"])
        assert body["Type"] == "Notification" and body["TopicArn"] == topic
        assert json.loads(body["Message"]) == {"raise_error": 1}
        assert body["MessageAttributes"] == {
            "RequestID": {"Type": "String", "Value": request_id},
            "ErrorCode": {"Type": "Number", "Value": "200"},
            "ErrorMessage": {"Type": "String", "Value": "Test exception (this is intentional)"},
        }
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_unsubscribe_url_unsubscribes(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    import urllib.request

    topic = make_topic()
    url, qarn = make_queue()
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="first")
    [message] = _drain(sqs, url, 1)
    with urllib.request.urlopen(json.loads(message["Body"])["UnsubscribeURL"]) as response:
        body = response.read().decode()
    assert "<UnsubscribeResponse" in body and "<RequestId>" in body
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert sub not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]


def test_failed_lambda_delivery_goes_to_the_subscription_dead_letter_queue(
    sns: Any, sqs: Any, make_topic: Any, make_queue: Any
) -> None:
    """No resource policy for SNS (here: no function at all): the delivery fails and the subscription's
    RedrivePolicy moves the notification to its dead-letter queue."""
    topic = make_topic()
    dlq_url, dlq_arn = make_queue()
    function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:missing-{uuid.uuid4().hex[:8]}"
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=function_arn,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
    sns.publish(
        TopicArn=topic,
        Message="test_redrive_policy",
        MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "1"}},
    )
    [message] = _drain(sqs, dlq_url, 1)
    body = json.loads(message["Body"])
    assert body["Type"] == "Notification" and body["Message"] == "test_redrive_policy"
    assert body["MessageAttributes"] == {"attr1": {"Type": "Number", "Value": "1"}}
    assert body["UnsubscribeURL"].endswith(sub)


@pytest.mark.slow
def test_lambda_notification_matches_the_recording(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any
) -> None:
    """TestSNSSubscriptionLambda::test_python_lambda_subscribe_sns_topic: the `Sns` record the function receives."""
    from tests.sns.test_conformance import SnsReplay

    replay = SnsReplay("TestSNSSubscriptionLambda::test_python_lambda_subscribe_sns_topic")
    topic = make_topic()
    outcome_url, outcome_arn = make_queue()
    name = f"fn-{uuid.uuid4().hex[:12]}"
    function_arn = _function(lambda_client, name)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
        )
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic,
        )
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
        sns.publish(TopicArn=topic, Subject="[Subject] Test subject", Message="Hello world.")
        [record] = [json.loads(m["Body"]) for m in _drain(sqs, outcome_url, 1, timeout=60)]
        replay.match("notification", record["requestPayload"]["Records"][0]["Sns"])
        replay.verify()
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_filter_policy_scope_set_before_the_policy_is_kept(
    sns: Any, sqs: Any, make_topic: Any, make_queue: Any
) -> None:
    """Issue 12 item 15: FilterPolicyScope MessageBody set first, then FilterPolicy: the scope stays MessageBody,
    and the body (not the attributes) decides, to five decimal places."""
    topic = make_topic()
    url, qarn = make_queue()
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    arn = sub["SubscriptionArn"]
    scope = {"AttributeName": "FilterPolicyScope", "AttributeValue": "MessageBody"}
    sns.set_subscription_attributes(SubscriptionArn=arn, **scope)
    policy = json.dumps({"price": [{"numeric": [">", 10]}]})
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy)
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["FilterPolicyScope"] == "MessageBody"
    number = {"price": {"DataType": "Number", "StringValue": "99"}}
    sns.publish(TopicArn=topic, Message=json.dumps({"price": 10.000001}), MessageAttributes=number)  # 10.00000
    sns.publish(TopicArn=topic, Message=json.dumps({"price": 10.00001}))
    [message] = _drain(sqs, url, 1)
    assert json.loads(message["Body"]) == {"price": 10.00001}


def test_a_queue_policy_decides_sns_delivery_without_auth(sns: Any, sqs: Any, make_topic: Any, make_queue: Any) -> None:
    """--auth none: a queue without a policy takes SNS's messages (an emulator's habit; AWS drops them), but a
    queue whose policy does not allow sns.amazonaws.com for this topic does not (as on AWS)."""
    topic = make_topic()
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="no policy")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in got] == ["no policy"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic + "-not-this-one"}},
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [statement]})})
    sns.publish(TopicArn=topic, Message="refused")
    statement["Condition"] = {"ArnLike": {"aws:SourceArn": topic}}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [statement]})})
    sns.publish(TopicArn=topic, Message="allowed")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in got] == ["allowed"]
