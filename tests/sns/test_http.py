"""HTTP/S subscriptions as AWS runs them, through boto3 against a real server: the pending subscription and its
SubscriptionConfirmation, confirming by token or by visiting the SubscribeURL, notifications only once confirmed,
the UnsubscribeURL and the UnsubscribeConfirmation, signatures checked against the certificate Lamina serves,
delivery policies and retries into the dead-letter queue."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.sns.conftest import HttpEndpoint

CONFIRMATION_KEYS = [
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
]


def verify_signature(message: dict[str, Any]) -> None:
    """What AWS's SNS message validators do: fetch the certificate at SigningCertURL, build the string to sign
    from the message's fields (by Type), check the base64 signature with SHA1withRSA (version 1) or
    SHA256withRSA (version 2)."""
    url = message["SigningCertURL"]
    assert urllib.parse.urlparse(url).path.endswith(".pem")
    with urllib.request.urlopen(url, timeout=5) as response:
        cert = x509.load_pem_x509_certificate(response.read())
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    algorithm: hashes.HashAlgorithm = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), algorithm)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _confirmation(endpoint: HttpEndpoint) -> tuple[dict[str, str], dict[str, Any]]:
    headers, body = endpoint.next()
    assert isinstance(body, dict)
    return headers, body


def test_subscription_is_pending_until_the_subscribe_url_is_visited(
    sns: Any, make_topic: Any, http_endpoint: HttpEndpoint
) -> None:
    topic = make_topic()
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_endpoint.url)["SubscriptionArn"] == (
        "pending confirmation"
    )
    headers, confirmation = _confirmation(http_endpoint)
    assert list(confirmation) == CONFIRMATION_KEYS
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    assert confirmation["Message"] == (
        f"You have chosen to subscribe to the topic {topic}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    token = confirmation["Token"]
    assert len(token) == 288 and all(c in "0123456789abcdef" for c in token)
    assert confirmation["SubscribeURL"].endswith(f"/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}")
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert "x-amz-sns-subscription-arn" not in headers  # as recorded: not on the confirmation
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    verify_signature(confirmation)

    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("1", "0")

    sns.publish(TopicArn=topic, Message="not yet")
    assert http_endpoint.nothing(1.0)  # notifications only go to confirmed subscriptions

    status, xml = _get(confirmation["SubscribeURL"])
    assert status == 200 and "<ConfirmSubscriptionResponse" in xml
    sub = xml.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert sub.startswith(topic + ":")
    assert _get(confirmation["SubscribeURL"])[0] == 200  # confirming twice is fine
    sub_attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert sub_attributes["PendingConfirmation"] == "false"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == sub

    published = sns.publish(TopicArn=topic, Message="now", Subject="S")
    headers, notification = _confirmation(http_endpoint)
    assert notification["MessageId"] == published["MessageId"] and notification["Message"] == "now"
    assert list(notification) == [
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
    ]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub and headers["x-amz-sns-topic-arn"] == topic
    verify_signature(notification)

    # the UnsubscribeURL works, and the endpoint is told, with a SubscribeURL that restores the subscription
    status, xml = _get(notification["UnsubscribeURL"])
    assert status == 200 and "<UnsubscribeResponse" in xml
    headers, goodbye = _confirmation(http_endpoint)
    assert goodbye["Type"] == "UnsubscribeConfirmation" and list(goodbye) == CONFIRMATION_KEYS
    assert goodbye["Message"] == (
        f"You have chosen to deactivate subscription {sub}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )
    assert headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    assert headers["x-amz-sns-subscription-arn"] == sub
    verify_signature(goodbye)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="gone")
    assert http_endpoint.nothing(1.0)

    assert _get(goodbye["SubscribeURL"])[0] == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == sub
    sns.publish(TopicArn=topic, Message="back")
    assert _confirmation(http_endpoint)[1]["Message"] == "back"


def test_confirm_subscription_by_token_and_its_errors(sns: Any, make_topic: Any, http_endpoint: HttpEndpoint) -> None:
    topic = make_topic()
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_endpoint.url, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    assert sub.startswith(topic + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "true" and attributes["ConfirmationWasAuthenticated"] == "false"
    token = _confirmation(http_endpoint)[1]["Token"]

    def error(**kwargs: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as e:
            sns.confirm_subscription(**kwargs)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]

    assert error(TopicArn=topic, Token="randomtoken") == ("InvalidParameter", "Invalid token")
    assert error(TopicArn=topic, Token="ab" * 144) == ("InvalidParameter", "Invalid parameter: Token")
    assert error(TopicArn="not-an-arn", Token=token) == ("InvalidParameter", "Invalid parameter: Topic")
    assert error(TopicArn=topic.replace("us-east-1", "eu-west-1"), Token=token) == (
        "InvalidParameter",
        "Invalid parameter: Topic",
    )
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"

    confirmed = sns.confirm_subscription(TopicArn=topic, Token=token, AuthenticateOnUnsubscribe="true")
    assert confirmed["SubscriptionArn"] == sub
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false" and attributes["ConfirmationWasAuthenticated"] == "true"

    sns.unsubscribe(SubscriptionArn=sub)
    assert _confirmation(http_endpoint)[1]["Type"] == "UnsubscribeConfirmation"
    assert error(TopicArn=topic, Token=token) == ("InvalidParameter", "Invalid parameter: Token")  # gone


def test_signature_version_2(sns: Any, make_topic: Any, http_endpoint: HttpEndpoint) -> None:
    topic = make_topic(Attributes={"SignatureVersion": "2"})
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_endpoint.url, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    confirmation = _confirmation(http_endpoint)[1]
    assert confirmation["SignatureVersion"] == "2"
    verify_signature(confirmation)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    sns.publish(TopicArn=topic, Message="signed with SHA256withRSA")
    notification = _confirmation(http_endpoint)[1]
    assert notification["SignatureVersion"] == "2"
    verify_signature(notification)
    tampered = {**notification, "Message": "something else"}
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidSignature
        verify_signature(tampered)
    sns.unsubscribe(SubscriptionArn=sub)


def _confirmed(sns: Any, topic: str, endpoint: HttpEndpoint, **attributes: str) -> str:
    sub: str = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    sns.confirm_subscription(TopicArn=topic, Token=_confirmation(endpoint)[1]["Token"])
    return sub


def test_raw_delivery_and_the_request_policy_content_type(
    sns: Any, make_topic: Any, http_endpoint: HttpEndpoint
) -> None:
    topic = make_topic()
    policy = json.dumps({"requestPolicy": {"headerContentType": "text/csv"}})
    sub = _confirmed(sns, topic, http_endpoint, RawMessageDelivery="true", DeliveryPolicy=policy)
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["DeliveryPolicy"]) == {  # as AWS returns it (recorded)
        "healthyRetryPolicy": None,
        "sicklyRetryPolicy": None,
        "throttlePolicy": None,
        "requestPolicy": {"headerContentType": "text/csv"},
        "guaranteed": False,
    }
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 3
    assert effective["requestPolicy"] == {"headerContentType": "text/csv"}
    sns.publish(TopicArn=topic, Message="a,b,c")
    headers, body = http_endpoint.next()
    assert body == b"a,b,c" and headers["x-amz-sns-rawdelivery"] == "true"
    assert headers["content-type"] == "text/csv"
    sns.unsubscribe(SubscriptionArn=sub)


def test_topic_delivery_policy_sets_the_default(sns: Any, make_topic: Any, http_endpoint: HttpEndpoint) -> None:
    topic_policy = {
        "http": {
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "application/json"},
        }
    }
    topic = make_topic(Attributes={"DeliveryPolicy": json.dumps(topic_policy)})
    effective = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultRequestPolicy"] == {"headerContentType": "application/json"}
    assert effective["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"] == 20
    sub = _confirmed(sns, topic, http_endpoint)
    sns.publish(TopicArn=topic, Message="json please")
    headers, body = http_endpoint.next()
    assert headers["content-type"] == "application/json" and isinstance(body, dict)
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue="{not json")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DeliveryPolicy"]) == topic_policy
    sns.unsubscribe(SubscriptionArn=sub)


def test_failing_endpoint_is_retried_then_dead_lettered(
    sns: Any, sqs: Any, make_topic: Any, make_queue: Any, http_endpoint: HttpEndpoint
) -> None:
    """Real time here (the schedule itself is tested in virtual time in test_retries.py): 1-second delays."""
    topic = make_topic()
    dlq_url, dlq_arn = make_queue()
    policy = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}
    sub = _confirmed(
        sns,
        topic,
        http_endpoint,
        DeliveryPolicy=json.dumps(policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    http_endpoint.status = 500
    published = sns.publish(TopicArn=topic, Message="server trouble")
    started = time.monotonic()
    ids = [http_endpoint.next()[0]["x-amz-sns-message-id"] for _ in range(3)]
    assert ids == [published["MessageId"]] * 3 and time.monotonic() - started >= 1.5
    messages = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=5).get("Messages", [])
    assert [json.loads(m["Body"])["MessageId"] for m in messages] == [published["MessageId"]]
    assert http_endpoint.nothing(1.5)  # no fourth attempt

    http_endpoint.status = 403  # the endpoint answered: delivered as far as SNS is concerned (no retry, no DLQ)
    sns.publish(TopicArn=topic, Message="forbidden")
    http_endpoint.next()
    assert http_endpoint.nothing(1.5)
    assert sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", []) == []
    sns.unsubscribe(SubscriptionArn=sub)


def test_bad_delivery_policy_changes_nothing(sns: Any, make_topic: Any, http_endpoint: HttpEndpoint) -> None:
    topic = make_topic()
    sub = _confirmed(sns, topic, http_endpoint)
    for bad in ("{", '{"healthyRetryPolicy": {"minDelayTarget": 0}}', '{"healthyRetryPolicy": {"numRetries": -1}}'):
        with pytest.raises(ClientError) as e:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=bad)
        assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert "DeliveryPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    good = json.dumps({"healthyRetryPolicy": {"numRetries": 5}})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=good)
    effective = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["EffectiveDeliveryPolicy"]
    assert json.loads(effective)["healthyRetryPolicy"]["numRetries"] == 5
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue="")
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "DeliveryPolicy" not in attributes
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    sns.unsubscribe(SubscriptionArn=sub)


def test_signing_cert_is_served(lamina: Any, sns: Any, make_topic: Any, make_queue: Any, sqs: Any) -> None:
    topic = make_topic()
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="signed for sqs too")
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    body = json.loads(message["Body"])
    assert body["SigningCertURL"].startswith(lamina.url + "/SimpleNotificationService-")
    verify_signature(body)


def test_an_interrupted_retry_schedule_resumes_after_a_restart(fresh_lamina: Any, http_endpoint: HttpEndpoint) -> None:
    server = fresh_lamina()
    sns = server.client("sns")
    topic = sns.create_topic(Name="resume")["TopicArn"]
    policy = {"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 2, "maxDelayTarget": 2}}
    _confirmed(sns, topic, http_endpoint, DeliveryPolicy=json.dumps(policy))
    http_endpoint.status = 500
    published = sns.publish(TopicArn=topic, Message="survives")
    assert http_endpoint.next()[0]["x-amz-sns-message-id"] == published["MessageId"]  # attempt 1 fails
    first_url = server.url
    server.stop()
    http_endpoint.status = 200
    server = fresh_lamina(data_dir=server.data_dir)
    headers, body = http_endpoint.next(timeout=10)  # the retry, from the new process
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert isinstance(body, dict) and body["Message"] == "survives"
    # signed with the same key (kept in the data directory), served by the new process on its own port
    verify_signature({**body, "SigningCertURL": body["SigningCertURL"].replace(first_url, server.url)})
    assert http_endpoint.nothing(3.0)  # delivered: no further attempts


def test_subscribe_url_confirms_a_topic_of_another_region(lamina: Any, http_endpoint: HttpEndpoint) -> None:
    """Lamina's SubscribeURL can't name a region in its host as AWS's does; the token's topic decides."""
    sns = lamina.client("sns", region="eu-west-1")
    topic = sns.create_topic(Name=f"eu-{uuid.uuid4().hex[:8]}")["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_endpoint.url)
        confirmation = _confirmation(http_endpoint)[1]
        us_topic = topic.replace("eu-west-1", "us-west-2")
        assert _get(confirmation["SubscribeURL"].replace(topic, us_topic))[0] == 400  # not the token's region
        status, xml = _get(confirmation["SubscribeURL"])
        assert status == 200 and "<ConfirmSubscriptionResponse" in xml
        [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert listed["SubscriptionArn"].startswith(topic + ":")
    finally:
        sns.delete_topic(TopicArn=topic)
