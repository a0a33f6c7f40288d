"""sms, email and email-json subscriptions and Publish to a phone number, through boto3: no carrier or mail server
here, so what SNS would send is appended to `<data-dir>/sns/outbox/{sms,email}.jsonl`. Email subscriptions need
confirming, as on AWS; the confirmation (token and SubscribeURL) is in the outbox and in Lamina's log."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _outbox(data_dir: Path, name: str, match: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The entries of one outbox file that satisfy `match`, waiting for at least one."""
    path = data_dir / "sns" / "outbox" / f"{name}.jsonl"
    deadline = time.monotonic() + timeout
    while True:
        entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        found = [e for e in entries if match(e)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _logged(lamina: Any, text: str, timeout: float = 5.0) -> bool:
    """Whether the server's output shows `text`, waiting for the thread that reads it to catch up."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in list(lamina.output)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_sms_subscription_and_publish_to_a_phone_number(lamina: Any, sns: Any, make_topic: Any) -> None:
    topic = make_topic()
    number = f"+1555{uuid.uuid4().int % 10_000_000:07d}"
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number)["SubscriptionArn"]
    assert sub.startswith(topic + ":")  # no confirmation for sms (recorded from AWS)
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    published = sns.publish(TopicArn=topic, Message="your code is 1234")
    [entry] = _outbox(lamina.data_dir, "sms", lambda e: e["MessageId"] == published["MessageId"])
    assert entry["PhoneNumber"] == number and entry["Message"] == "your code is 1234"
    assert entry["SubscriptionArn"] == sub and entry["TopicArn"] == topic

    direct = sns.publish(PhoneNumber=number, Message="direct")
    [entry] = _outbox(lamina.data_dir, "sms", lambda e: e["MessageId"] == direct["MessageId"])
    assert entry["PhoneNumber"] == number and entry["Message"] == "direct" and "TopicArn" not in entry


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("+1a234", "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to"),
        ("NAA+15551234567", "Invalid parameter: PhoneNumber Reason: NAA+15551234567 is not valid to publish to"),
    ],
)
def test_publish_to_an_invalid_phone_number(lamina: Any, sns: Any, number: str, message: str) -> None:
    with pytest.raises(ClientError) as e:
        sns.publish(PhoneNumber=number, Message="x")
    assert e.value.response["Error"] == {**e.value.response["Error"], "Code": "InvalidParameter", "Message": message}
    assert not _outbox(lamina.data_dir, "sms", lambda e: e["PhoneNumber"] == number, timeout=0)


def test_email_subscription_is_confirmed_from_the_outbox(lamina: Any, sns: Any, make_topic: Any) -> None:
    topic = make_topic()
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)["SubscriptionArn"] == (
        "pending confirmation"
    )
    [confirmation] = _outbox(lamina.data_dir, "email", lambda e: e["To"] == address)
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    token = confirmation["Token"]
    assert _logged(lamina, token)  # also in Lamina's log
    sns.publish(TopicArn=topic, Message="before confirming")
    time.sleep(0.5)
    assert [e["Type"] for e in _outbox(lamina.data_dir, "email", lambda e: e["To"] == address)] == [
        "SubscriptionConfirmation"
    ]
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
    published = sns.publish(TopicArn=topic, Message="hello by mail", Subject="Greetings")
    [mail] = _outbox(lamina.data_dir, "email", lambda e: e.get("MessageId") == published["MessageId"])
    assert mail["Subject"] == "Greetings" and mail["Body"].startswith("hello by mail")
    assert "Action=Unsubscribe" in mail["Body"]


def test_email_json_gets_the_notification_document(lamina: Any, sns: Any, make_topic: Any) -> None:
    topic = make_topic()
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    sub = sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint=address, ReturnSubscriptionArn=True)
    [confirmation] = _outbox(lamina.data_dir, "email", lambda e: e["To"] == address)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    assert (
        sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]["PendingConfirmation"]
        == "false"
    )
    published = sns.publish(TopicArn=topic, Message="as json")
    [mail] = _outbox(lamina.data_dir, "email", lambda e: e.get("MessageId") == published["MessageId"])
    body = json.loads(mail["Body"])
    assert body["Type"] == "Notification" and body["Message"] == "as json"


def test_subscription_endpoint_errors(sns: Any, make_topic: Any) -> None:
    topic = make_topic()

    def error(protocol: str, endpoint: str) -> str:
        with pytest.raises(ClientError) as e:
            sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
        return str(e.value.response["Error"]["Message"])

    assert error("sms", "+15--551234567") == "Invalid SMS endpoint: +15--551234567"
    assert error("sms", "invalid-number") == "Invalid SMS endpoint: invalid-number"
    assert error("email", "not-an-address") == "Invalid parameter: Email address"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_pending_confirmation_survives_a_restart(fresh_lamina: Any) -> None:
    server = fresh_lamina()
    sns = server.client("sns")
    topic = sns.create_topic(Name="restart-email")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
    [confirmation] = _outbox(server.data_dir, "email", lambda e: e["To"] == "someone@example.com")
    server.stop()
    server = fresh_lamina(data_dir=server.data_dir)
    sns = server.client("sns")
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == arn
