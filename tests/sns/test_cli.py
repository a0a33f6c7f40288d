"""The aws CLI against Lamina's SNS: create-topic, subscribe, publish (delivered to an SQS queue), and an error."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_topic_subscribe_publish(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    topic = aws("sns", "create-topic", "--name", name, "--tags", "Key=team,Value=lamina")["TopicArn"]
    assert topic.endswith(f":{name}")
    url = aws("sqs", "create-queue", "--queue-name", name)["QueueUrl"]
    queue_arn = aws("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn")["Attributes"][
        "QueueArn"
    ]
    sub = aws(
        "sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", queue_arn,
        "--attributes", json.dumps({"FilterPolicy": json.dumps({"kind": ["wanted"]})}),
    )["SubscriptionArn"]  # fmt: skip
    assert sub.startswith(topic + ":")
    assert [t["TopicArn"] for t in aws("sns", "list-topics")["Topics"]].count(topic) == 1
    aws("sns", "publish", "--topic-arn", topic, "--message", "skipped",
        "--message-attributes", json.dumps({"kind": {"DataType": "String", "StringValue": "other"}}))  # fmt: skip
    wanted = json.dumps({"kind": {"DataType": "String", "StringValue": "wanted"}})
    published = aws("sns", "publish", "--topic-arn", topic, "--message", "hello from the CLI", "--subject", "Hi",
                    "--message-attributes", wanted)  # fmt: skip
    received = aws("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "5")["Messages"]
    assert len(received) == 1
    body = json.loads(received[0]["Body"])
    assert body["MessageId"] == published["MessageId"]
    assert body["Message"] == "hello from the CLI" and body["Subject"] == "Hi"
    assert aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic)["Subscriptions"][0]["SubscriptionArn"] == sub
    error = aws("sns", "get-topic-attributes", "--topic-arn", topic + "-missing", ok=False)
    assert "NotFound" in error and "Topic does not exist" in error
    aws("sns", "delete-topic", "--topic-arn", topic)
    aws("sqs", "delete-queue", "--queue-url", url)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_email_confirmation_and_sms(aws: Any, lamina: Any) -> None:
    """The documented way to find a confirmation: the outbox; then confirm-subscription and publish --phone-number."""
    topic = aws("sns", "create-topic", "--name", f"cli-{uuid.uuid4().hex[:10]}")["TopicArn"]
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    pending = aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "email", "--notification-endpoint", address)
    assert pending["SubscriptionArn"] == "pending confirmation"
    outbox = lamina.data_dir / "sns" / "outbox" / "email.jsonl"
    [confirmation] = [e for e in map(json.loads, outbox.read_text().splitlines()) if e["To"] == address]
    confirmed = aws("sns", "confirm-subscription", "--topic-arn", topic, "--token", confirmation["Token"])
    assert confirmed["SubscriptionArn"].startswith(topic + ":")
    error = aws("sns", "confirm-subscription", "--topic-arn", topic, "--token", "nothex", ok=False)
    assert "InvalidParameter" in error and "Invalid token" in error
    published = aws("sns", "publish", "--phone-number", "+15550001111", "--message", "hi by text")
    sms = lamina.data_dir / "sns" / "outbox" / "sms.jsonl"
    assert any(json.loads(line)["MessageId"] == published["MessageId"] for line in sms.read_text().splitlines())
    aws("sns", "delete-topic", "--topic-arn", topic)


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_add_and_remove_permission(aws: Any) -> None:
    topic = aws("sns", "create-topic", "--name", f"cli-{uuid.uuid4().hex[:10]}")["TopicArn"]
    aws("sns", "add-permission", "--topic-arn", topic, "--label", "partners",
        "--aws-account-id", "111122223333", "444455556666", "--action-name", "Publish", "Subscribe")  # fmt: skip
    policy = json.loads(aws("sns", "get-topic-attributes", "--topic-arn", topic)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID", "partners"]
    assert policy["Statement"][1] == {
        "Sid": "partners",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
        "Action": ["SNS:Publish", "SNS:Subscribe"],
        "Resource": topic,
    }
    error = aws("sns", "add-permission", "--topic-arn", topic, "--label", "partners",
                "--aws-account-id", "111122223333", "--action-name", "Publish", ok=False)  # fmt: skip
    assert "(InvalidParameter)" in error and "Invalid parameter: Statement already exists" in error
    aws("sns", "remove-permission", "--topic-arn", topic, "--label", "partners")
    # an unknown label is no error (moto's behaviour; not recorded from AWS)
    aws("sns", "remove-permission", "--topic-arn", topic, "--label", "never-added")
    policy = json.loads(aws("sns", "get-topic-attributes", "--topic-arn", topic)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID"]
    aws("sns", "delete-topic", "--topic-arn", topic)
