"""Replays entries of services__sns__test_sns.snapshot.json that apply to what Lamina serves, making the calls
upstream's test of the same id made (localstack tests/aws/services/sns/test_sns.py) and comparing every response
with the recording through tests/conformance/snapshot.py's normaliser.

As in the recordings (LocalStack's snapshot transformers), JSON documents inside strings (topic Policy, SQS message
bodies) are compared parsed, notification timestamps as the literal "date", body MD5s as "<md5-hash>" and
signatures as "<signature>"."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest

from lamina.services.sqs.digests import md5_attributes
from tests.conformance.snapshot import RECORDED, Bindings, capture, clean, verify_responses
from tests.sns.conftest import HttpEndpoint

SNS_FILE = "services__sns__test_sns.snapshot.json"
PREFIX = "tests/aws/services/sns/test_sns.py::"
REGION = "us-east-1"
JSON_KEYS = frozenset({"Policy", "EffectiveDeliveryPolicy", "Body", "DeliveryPolicy", "FilterPolicy", "RedrivePolicy"})
RESULTS: list[tuple[str, str, bool]] = []  # (entry, response, matched); tests/sns/conftest.py prints the summary


def _shape(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, key) for v in value]
    if isinstance(value, bytes):  # as the recordings print a binary attribute
        return str(value)
    if isinstance(value, str):
        if key in JSON_KEYS and value[:1] in "{[":
            try:
                return _shape(json.loads(value))
            except ValueError:
                return value
        if key == "Timestamp":
            return "date"
        if key in ("SentTimestamp", "ApproximateFirstReceiveTimestamp"):
            return "timestamp"
        if key == "MD5OfBody" and len(value) == 32:  # the recordings mask every body digest alike
            return "<md5-hash>"
        if key == "Signature" and value:  # and every signature
            return "<signature>"
    return value


class SnsReplay:
    def __init__(self, test_id: str) -> None:
        self.test_id = test_id
        self.recorded = json.loads((RECORDED / SNS_FILE).read_text())[PREFIX + test_id]["recorded-content"]
        self.bindings = Bindings({"<partition>": "aws", "<region>": REGION})
        self.live: dict[str, Any] = {}

    def match(self, name: str, live: Any) -> Any:
        assert name in self.recorded, f"{self.test_id} has no recorded response {name!r}"
        self.live[name] = _shape(clean(live))
        return live

    def call(self, name: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        return self.match(name, capture(method, **kwargs))

    def verify(self) -> None:
        verify_responses(self.test_id, self.recorded, self.live, self.bindings, RESULTS)


Scenario = Callable[[Any, Any, SnsReplay], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(test_id: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[test_id] = fn
        return fn

    return register


def _name(suffix: str = "") -> str:
    return f"topic-{uuid.uuid4().hex[:8]}{suffix}"


def _queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"queue-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@scenario("TestSNSTopicCrud::test_create_topic_test_arn")
def _create_topic_test_arn(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = r.call("create-topic", sns.create_topic, Name=_name())["TopicArn"]
    r.call("get-topic-attrs", sns.get_topic_attributes, TopicArn=arn)
    r.call("delete-topic", sns.delete_topic, TopicArn=arn)
    r.call("topic-not-exists", sns.get_topic_attributes, TopicArn=arn)


@scenario("TestSNSTopicCrud::test_create_topic_with_attributes")
def _create_topic_with_attributes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    attributes = {"DisplayName": "TestTopic", "SignatureVersion": "2", "FifoTopic": "true"}
    arn = sns.create_topic(Name=_name(".fifo"), Attributes=attributes)["TopicArn"]
    r.call("get-topic-attrs", sns.get_topic_attributes, TopicArn=arn)
    r.call("get-attrs-nonexistent-topic", sns.get_topic_attributes, TopicArn=arn.replace(".fifo", "-x.fifo"))
    r.call("get-attrs-malformed-topic", sns.get_topic_attributes, TopicArn="test-topic")


def _policy(sns: Any, arn: str) -> Any:
    return json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])


def _account(arn: str) -> str:
    return arn.split(":")[4]


@scenario("TestSNSTopicCrudV2::test_topic_add_permission")
def _add_permission(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("add-permission-response", sns.add_permission, TopicArn=arn, Label="test",
           AWSAccountId=[_account(arn)], ActionName=["Publish"])  # fmt: skip
    r.match("topic-policy-after-permission", _policy(sns, arn))


@scenario("TestSNSTopicCrudV2::test_topic_add_multiple_permissions")
def _add_multiple_permissions(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("add-permission-response", sns.add_permission, TopicArn=arn, Label="test",
           AWSAccountId=[_account(arn)], ActionName=["Publish", "Subscribe"])  # fmt: skip
    r.match("topic-policy-after-permission", _policy(sns, arn))


@scenario("TestSNSTopicCrudV2::test_topic_remove_permission")
def _remove_permission(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="test", AWSAccountId=[_account(arn)], ActionName=["Publish"])
    sns.remove_permission(TopicArn=arn, Label="test")
    r.match("topic-policy", _policy(sns, arn))


@scenario("TestSNSTopicCrudV2::test_add_permission_errors")
def _add_permission_errors(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    account = [_account(arn)]
    sns.add_permission(TopicArn=arn, Label="test", AWSAccountId=account, ActionName=["Publish"])
    r.call("duplicate-label", sns.add_permission, TopicArn=arn, Label="test", AWSAccountId=account,
           ActionName=["AddPermission"])  # fmt: skip
    r.call("topic-not-found", sns.add_permission, TopicArn=arn + "-not-existing", Label="test-2",
           AWSAccountId=account, ActionName=["AddPermission"])  # fmt: skip
    r.call("invalid-action", sns.add_permission, TopicArn=arn, Label="test-2", AWSAccountId=account,
           ActionName=["NotExistingAction"])  # fmt: skip


@scenario("TestSNSTopicCrudV2::test_remove_permission_errors")
def _remove_permission_errors(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("topic-not-found", sns.remove_permission, TopicArn=arn + "-not-existing", Label="test")


@scenario("TestSNSTopicCrud::test_delete_topic_idempotency")
def _delete_topic_idempotency(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("delete-topic", sns.delete_topic, TopicArn=arn)
    r.call("delete-topic-again", sns.delete_topic, TopicArn=arn)


@scenario("TestSNSTopicCrudV2::test_delete_non_existent_topic")
def _delete_non_existent(sns: Any, sqs: Any, r: SnsReplay) -> None:
    r.call("delete-non-existent-topic", sns.delete_topic, TopicArn=f"arn:aws:sns:{REGION}:000000000000:{_name()}")


@scenario("TestSNSPublishCrud::test_unknown_topic_publish")
def _unknown_topic_publish(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("success", sns.publish, TopicArn=arn, Message="test message")
    r.call("error", sns.publish, TopicArn=arn + "-unknown", Message="test message")


@scenario("TestSNSPublishCrud::test_publish_with_empty_subject")
def _empty_subject(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("response-without-subject", sns.publish, TopicArn=arn, Message=json.dumps({"message": "test"}))
    r.call("response-with-empty-subject", sns.publish, TopicArn=arn, Message="test", Subject="")


@scenario("TestSNSPublishCrud::test_empty_sns_message")
def _empty_message(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("empty-msg-error", sns.publish, TopicArn=arn, Message="")


@scenario("TestSNSPublishCrud::test_publish_too_long_message")
def _too_long(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("error", sns.publish, TopicArn=arn, Message="a" * (262_144 + 1))


@scenario("TestSNSPublishCrud::test_message_structure_json_exc")
def _structure_exc(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    message = json.dumps({"sqs": "Test message"})
    r.call("missing-default-key", sns.publish, TopicArn=arn, Message=message, MessageStructure="json")
    r.call("invalid-json", sns.publish, TopicArn=arn, Message='{"default": "x"', MessageStructure="json")


@scenario("TestSNSPublishCrud::test_publish_non_existent_target")
def _non_existent_target(sns: Any, sqs: Any, r: SnsReplay) -> None:
    target = f"arn:aws:sns:{REGION}:000000000000:endpoint/APNS/abcdef/0f7d5971-aa8b-4bd5-b585-0826e9f93a66"
    r.call("non-existent-endpoint", sns.publish, TargetArn=target, Message="This is a push notification")


@scenario("TestSNSSubscriptionCrud::test_subscribe_with_invalid_protocol")
def _invalid_protocol(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("exception", sns.subscribe, TopicArn=arn, Protocol="test-protocol", Endpoint="localhost")


@scenario("TestSNSSubscriptionCrud::test_subscribe_with_invalid_topic")
def _invalid_topic(sns: Any, sqs: Any, r: SnsReplay) -> None:
    _, qarn = _queue(sqs)
    r.call("invalid-subscribe-arn-1", sns.subscribe, TopicArn="randomstring", Protocol="sqs", Endpoint=qarn)
    r.call(
        "invalid-subscribe-arn-2", sns.subscribe, TopicArn="arn:aws:sns:us-east-1:random", Protocol="sqs", Endpoint=qarn
    )
    missing = f"arn:aws:sns:{REGION}:000000000000:{_name()}"
    r.call("non-existent-topic", sns.subscribe, TopicArn=missing, Protocol="sqs", Endpoint=qarn)


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_unknown_topic")
def _subscribe_unknown_topic(sns: Any, sqs: Any, r: SnsReplay) -> None:
    _, qarn = _queue(sqs)
    missing = f"arn:aws:sns:{REGION}:000000000000:{_name()}"
    r.call("subscribe-unknown-topic", sns.subscribe, TopicArn=missing, Protocol="sqs", Endpoint=qarn)


@scenario("TestSNSSubscriptionSQS::test_subscribe_to_sqs_with_queue_url")
def _queue_url(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, _ = _queue(sqs)
    r.call("sub-queue-url", sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=url)


@scenario("TestSNSSubscriptionCrudV2::test_get_subscription_attributes_error_not_exists")
def _sub_attrs_missing(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    missing = f"{arn}:{uuid.uuid4()}"
    r.call("get-sub-attrs-nonexistent", sns.get_subscription_attributes, SubscriptionArn=missing)


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_attributes")
def _subscribe_attributes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    r.call("get-subscription-attributes", sns.get_subscription_attributes, SubscriptionArn=sub)


@scenario("TestSNSSubscriptionCrudV2::test_getting_subscriptions_by_topic")
def _subs_by_topic(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    r.call("list-subscriptions-by-topic", sns.list_subscriptions_by_topic, TopicArn=arn)


@scenario("TestSNSSubscriptionCrud::test_unsubscribe_idempotency")
def _unsubscribe_idempotency(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    r.call("unsubscribe-1", sns.unsubscribe, SubscriptionArn=sub)
    r.call("unsubscribe-2", sns.unsubscribe, SubscriptionArn=sub)


@scenario("TestSNSSubscriptionCrud::test_unsubscribe_wrong_arn_format")
def _unsubscribe_wrong_arn(sns: Any, sqs: Any, r: SnsReplay) -> None:
    r.call("invalid-unsubscribe-arn-1", sns.unsubscribe, SubscriptionArn="randomstring")
    r.call("invalid-unsubscribe-arn-2", sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:random")
    r.call("invalid-unsubscribe-arn-3", sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:111111111111:random")
    r.call("invalid-unsubscribe-arn-4", sns.unsubscribe, SubscriptionArn="")


@scenario("TestSNSSubscriptionSQS::test_publish_sqs_from_sns")
def _publish_sqs_from_sns(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, qarn = _queue(sqs)
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sub_arn = sub["SubscriptionArn"]
    r.call("sub-attrs-raw-true", sns.get_subscription_attributes, SubscriptionArn=sub_arn)
    attrs = {"attr1": {"DataType": "Number", "StringValue": "99.12"}}
    sns.publish(TopicArn=arn, Message="Test msg", MessageAttributes=attrs)
    received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=5)
    r.match("message-raw-true", received)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["Messages"][0]["ReceiptHandle"])
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="false")
    r.call("sub-attrs-raw-false", sns.get_subscription_attributes, SubscriptionArn=sub_arn)
    attrs = {"attr1": {"DataType": "Number", "StringValue": "100.12"}}
    sns.publish(TopicArn=arn, Message="Test msg", MessageAttributes=attrs)
    r.match("message-raw-false", sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=5))


@scenario("TestSNSTopicCrud::test_tags")
def _tags(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    duplicated = [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}, {"Key": "k2", "Value": "v2"}]
    r.call("duplicate-key-error", sns.tag_resource, ResourceArn=arn, Tags=duplicated)
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)
    tags["Tags"].sort(key=lambda t: t["Key"])
    r.match("list-created-tags", tags)
    sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
    r.call("list-after-delete-tags", sns.list_tags_for_resource, ResourceArn=arn)
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
    r.call("list-after-update-tags", sns.list_tags_for_resource, ResourceArn=arn)


@scenario("TestSNSTopicCrud::test_create_duplicate_topic_with_more_tags")
def _duplicate_more_tags(sns: Any, sqs: Any, r: SnsReplay) -> None:
    name = _name()
    sns.create_topic(Name=name)
    r.call("exception-duplicate", sns.create_topic, Name=name, Tags=[{"Key": "key1", "Value": "value1"}])


@scenario("TestSNSTopicCrud::test_create_duplicate_topic_check_idempotency")
def _duplicate_idempotency(sns: Any, sqs: Any, r: SnsReplay) -> None:
    name = _name()
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    r.call("response-created", sns.create_topic, Name=name, Tags=tags)
    for index, again in enumerate([tags, [tags[0]], []]):
        r.call(f"response-same-arn-{index}", sns.create_topic, Name=name, Tags=again)


@scenario("TestSNSTopicCrud::test_create_topic_after_delete_with_new_tags")
def _after_delete_new_tags(sns: Any, sqs: Any, r: SnsReplay) -> None:
    name = _name()
    topic = r.call("topic-0", sns.create_topic, Name=name, Tags=[{"Key": "Name", "Value": "pqr"}])
    sns.delete_topic(TopicArn=topic["TopicArn"])
    r.call("topic-1", sns.create_topic, Name=name, Tags=[{"Key": "Name", "Value": "abc"}])


@scenario("TestSNSTopicCrudV2::test_create_topic_should_be_idempotent")
def _topic_idempotent(sns: Any, sqs: Any, r: SnsReplay) -> None:
    name = _name()
    arn = sns.create_topic(Name=name)["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="AlreadySet")
    r.call("topic-attrs-idempotent-1", sns.get_topic_attributes, TopicArn=arn)
    arn = sns.create_topic(Name=name)["TopicArn"]
    r.call("topic-attrs-idempotent-2", sns.get_topic_attributes, TopicArn=arn)


@scenario("TestSNSTopicCrudV2::test_create_topic_name_constraints")
def _name_constraints(sns: Any, sqs: Any, r: SnsReplay) -> None:
    r.call("valid-name-max-length", sns.create_topic, Name="a" * 256)
    r.call("name-too-short", sns.create_topic, Name="")
    r.call("name-too-long", sns.create_topic, Name="a" * 257)
    for index, c in enumerate([":", ";", "!", "@", "|", "^", "%", " "]):
        if f"name-invalid-char-{index}" in r.recorded:
            r.call(f"name-invalid-char-{index}", sns.create_topic, Name=f"bad{c}name")
    sns.delete_topic(TopicArn=f"arn:aws:sns:{REGION}:000000000000:{'a' * 256}")


@scenario("TestSNSTopicCrudV2::test_topic_get_attributes_with_fifo_false")
def _fifo_false(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name(), Attributes={"FifoTopic": "false"})["TopicArn"]
    r.call("get-attrs-standard-topic", sns.get_topic_attributes, TopicArn=arn)
    r.call(
        "set-fifo-false-after-creation",
        sns.set_topic_attributes,
        TopicArn=arn,
        AttributeName="FifoTopic",
        AttributeValue="false",
    )


@scenario("TestSNSSubscriptionCrud::test_create_subscriptions_with_attributes")
def _subscriptions_with_attributes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    attributes = {"RawMessageDelivery": "wrongvalue", "FilterPolicyScope": "MessageBody", "FilterPolicy": ""}
    r.call(
        "subscribe-wrong-attr",
        sns.subscribe,
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=qarn,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    attributes["RawMessageDelivery"] = "TrUe"
    sub = r.call(
        "subscribe", sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]  # fmt: skip
    r.call("get-attrs", sns.get_subscription_attributes, SubscriptionArn=sub)
    wrong = f"{sub[:-8]}{uuid.uuid4().hex[:8]}"
    r.call("get-attrs-nonexistent-sub", sns.get_subscription_attributes, SubscriptionArn=wrong)


@scenario("TestSNSSubscriptionCrud::test_not_found_error_on_set_subscription_attributes")
def _set_attributes_not_found(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sub = r.call("sub", sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    r.call("sub-attrs", sns.get_subscription_attributes, SubscriptionArn=sub)
    r.call("subscriptions-for-topic-before-unsub", sns.list_subscriptions_by_topic, TopicArn=arn)
    sns.unsubscribe(SubscriptionArn=sub)
    r.call(
        "sub-not-found",
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    r.call("subscriptions-for-topic-after-unsub", sns.list_subscriptions_by_topic, TopicArn=arn)


@scenario("TestSNSSubscriptionCrud::test_validate_set_sub_attributes")
def _validate_set_sub_attributes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    for name, attribute, value in [
        ("fake-attribute", "FakeAttribute", "test-value"),
        ("raw-message-wrong-value", "RawMessageDelivery", "test-ValUe"),
        ("raw-message-empty-value", "RawMessageDelivery", ""),
        ("fake-arn-redrive-policy", "RedrivePolicy", json.dumps({"deadLetterTargetArn": "fake-arn"})),
    ]:
        r.call(
            name, sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName=attribute, AttributeValue=value
        )


@scenario("TestSNSSubscriptionCrud::test_subscribe_idempotency")
def _subscribe_idempotency(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)

    def subscribe(name: str, attributes: dict[str, str] | None = None) -> Any:
        kwargs: dict[str, Any] = {} if attributes is None else {"Attributes": attributes}
        return r.call(
            name, sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=qarn, ReturnSubscriptionArn=True, **kwargs
        )

    sub = subscribe("subscribe", {"RawMessageDelivery": "true"})["SubscriptionArn"]
    r.call("get-sub-attrs", sns.get_subscription_attributes, SubscriptionArn=sub)
    subscribe("subscribe-exact-same-raw", {"RawMessageDelivery": "true"})
    subscribe("subscribe-idempotent", {"RawMessageDelivery": "true", "FilterPolicyScope": "MessageAttributes"})
    subscribe("subscribe-idempotent-no-attributes")
    subscribe("subscribe-idempotent-empty-attributes", {})
    subscribe("subscribe-missing-attributes", {"FilterPolicyScope": "MessageAttributes"})
    subscribe("subscribe-diff-attributes", {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageBody"})


@scenario("TestSNSPublishCrud::test_publish_wrong_arn_format")
def _publish_wrong_arn(sns: Any, sqs: Any, r: SnsReplay) -> None:
    r.call("invalid-topic-arn", sns.publish, TopicArn="randomstring", Message="test")
    r.call("invalid-topic-arn-1", sns.publish, TopicArn="arn:randomstring", Message="test")
    r.call("empty-topic", sns.publish, TopicArn="", Message="test")


def _receive(sqs: Any, url: str) -> Any:
    received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=5)
    for message in received.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


@scenario("TestSNSSubscriptionSQS::test_attribute_raw_subscribe")
def _attribute_raw_subscribe(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, qarn = _queue(sqs)
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    r.call("subscription-attributes", sns.get_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"])
    attributes = {"store": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"}}
    sns.publish(TopicArn=arn, Message="This is a test message", MessageAttributes=attributes)
    received = _receive(sqs, url)
    [message] = received["Messages"]
    assert message["MD5OfMessageAttributes"] == md5_attributes(attributes)  # then masked, as recorded
    message["MD5OfMessageAttributes"] = "<md5-hash>"
    r.match("messages-response", received)


@scenario("TestSNSSubscriptionSQS::test_message_structure_json_to_sqs")
def _structure_json_to_sqs(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    message = {"default": "default field", "sqs": json.dumps({"field": "value"})}
    sns.publish(TopicArn=arn, Message=json.dumps(message), MessageStructure="json")
    r.match("get-msg-json-sqs", _receive(sqs, url))
    message = {"default": "default field"}
    sns.publish(TopicArn=arn, Message=json.dumps(message), MessageStructure="json")
    r.match("get-msg-json-default", _receive(sqs, url))


@scenario("TestSNSSubscriptionSQS::test_publish_unicode_chars")
def _unicode(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    sns.publish(TopicArn=arn, Message='\u00f6\u00a7a1"_!?,. \u00a3$-')
    r.match("received-message", _receive(sqs, url))


@scenario("TestSNSPublishCrud::test_publish_message_by_target_arn")
def _by_target_arn(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    url, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    sns.publish(TopicArn=arn, Message="test-msg-1")
    r.match("receive-topic-arn", _receive(sqs, url))
    sns.publish(TargetArn=arn, Message="test-msg-2")
    r.match("receive-target-arn", _receive(sqs, url))


WRONG_ATTRIBUTES: dict[str, dict[str, dict[str, Any]]] = {
    "missing_string_attr": {"attr1": {"DataType": "String", "StringValue": ""}},
    "fully_missing_string_attr": {"attr1": {"DataType": "String"}},
    "missing_binary_attr": {"attr1": {"DataType": "Binary", "BinaryValue": b""}},
    "str_attr_binary_value": {"attr1": {"DataType": "String", "BinaryValue": b"123"}},
    "int_attr_binary_value": {"attr1": {"DataType": "Number", "BinaryValue": b"123"}},
    "binary_attr_string_value": {"attr1": {"DataType": "Binary", "StringValue": "123"}},
    "invalid_attr_string_value": {"attr1": {"DataType": "InvalidType", "StringValue": "123"}},
    "too_long_name": {"a" * 257: {"DataType": "String", "StringValue": "123"}},
    "invalid_name": {"a^*?": {"DataType": "String", "StringValue": "123"}},
    "invalid_name_2": {".abc": {"DataType": "String", "StringValue": "123"}},
    "invalid_name_3": {"abc.": {"DataType": "String", "StringValue": "123"}},
    "invalid_name_4": {"a..bc": {"DataType": "String", "StringValue": "123"}},
}


@scenario("TestSNSSubscriptionSQS::test_empty_or_wrong_message_attributes")
def _wrong_attributes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    for name, attributes in WRONG_ATTRIBUTES.items():
        if name in r.recorded:
            r.call(name, sns.publish, TopicArn=arn, Message="test message", MessageAttributes=attributes)
        if f"batch-{name}" in r.recorded:
            entries = [{"Id": "1", "Message": "test-batch", "MessageAttributes": attributes}]
            r.call(f"batch-{name}", sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=entries)


@scenario("TestSNSSubscriptionSQS::test_message_attributes_prefixes")
def _attribute_prefixes(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    _, qarn = _queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    for name, data_type in [
        ("publish-error", "String."),
        ("publish-error-2", "Stringprefixed"),
        ("publish-ok-1", "String.prefixed"),
        ("publish-ok-2", "String.  prefixed."),
    ]:
        attributes = {"attr1": {"DataType": data_type, "StringValue": "prefixed-1"}}
        r.call(name, sns.publish, TopicArn=arn, Message="test message", MessageAttributes=attributes)


@scenario("TestSNSSubscriptionSQSFifo::test_validations_for_fifo")
def _validations_for_fifo(sns: Any, sqs: Any, r: SnsReplay) -> None:
    topic = sns.create_topic(Name=_name())["TopicArn"]
    fifo_topic = sns.create_topic(Name=_name(".fifo"), Attributes={"FifoTopic": "true"})["TopicArn"]
    fifo_url = sqs.create_queue(QueueName=f"queue-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _, queue_arn = _queue(sqs)
    r.call("not-fifo-topic", sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=fifo_arn)
    sub = sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=fifo_arn)["SubscriptionArn"]
    r.call(
        "regular-queue-for-dlq-of-fifo-topic",
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn}),
    )
    r.call("no-msg-group-id", sns.publish, TopicArn=fifo_topic, Message="test")
    r.call("no-dedup-policy", sns.publish, TopicArn=fifo_topic, Message="test", MessageGroupId="g")
    r.call("no-msg-dedup-regular-topic", sns.publish, TopicArn=topic, Message="test", MessageDeduplicationId="d")


@scenario("TestSNSSubscriptionCrud::test_sns_confirm_subscription_wrong_token")
def _confirm_wrong_token(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    token = "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6" * 7 + "1c9ab6e6"  # hex, 288 digits, no such token
    r.call("topic-not-exists", sns.confirm_subscription, TopicArn=arn[:-1] + "i", Token=token)
    r.call("invalid-token", sns.confirm_subscription, TopicArn=arn, Token="randomtoken")
    r.call("token-not-exists", sns.confirm_subscription, TopicArn=arn, Token=token)


@scenario("TestSNSSubscriptionHttp::test_http_subscription_response")
def _http_subscription_response(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.match("topic-arn", {"TopicArn": arn})
    endpoint = "http://127.0.0.1:9/sns-endpoint"  # nothing listens: the confirmation just fails
    r.call("subscription", sns.subscribe, TopicArn=arn, Protocol="http", Endpoint=endpoint)
    r.call(
        "subscription-with-arn",
        sns.subscribe,
        TopicArn=arn,
        Protocol="http",
        Endpoint=endpoint,
        ReturnSubscriptionArn=True,
    )


@scenario("TestSNSSMS::test_subscribe_sms_endpoint")
def _subscribe_sms_endpoint(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    sub = r.call("subscribe-sms-endpoint", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint="+123123123")
    r.call("subscribe-sms-attrs", sns.get_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"])


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_sms")
def _subscribe_sms(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.bindings.values.setdefault("<topic>", arn.split(":")[-1])
    r.call("subscribe-sms-1", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint="+15551234567")


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_sms_obscure_phone_number")
def _subscribe_sms_obscure(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.bindings.values.setdefault("<topic>", arn.split(":")[-1])
    r.call("subscribe-sms-2", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint="+15/55-123.4567")


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_bad_sms")
def _subscribe_bad_sms(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("subscribe-bad-sms", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint="invalid-number")


@scenario("TestSNSSubscriptionCrudV2::test_subscribe_invalid_sms")
def _subscribe_invalid_sms(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    for number in ("+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567"):
        r.call(f"subscribe-bad-sms-{number}", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint=number)


@scenario("TestSNSSMS::test_publish_wrong_phone_format")
def _publish_wrong_phone_format(sns: Any, sqs: Any, r: SnsReplay) -> None:
    arn = sns.create_topic(Name=_name())["TopicArn"]
    r.call("invalid-number", sns.publish, PhoneNumber="+1a234", Message="message")
    r.call("wrong-format", sns.publish, PhoneNumber="NAA+15551234567", Message="message")
    r.call("wrong-endpoint", sns.subscribe, TopicArn=arn, Protocol="sms", Endpoint="NAA+15551234567")


def _fifo_to_fifo_queue(content_based: bool, queue_content_based: bool | None = None) -> Scenario:
    def run(sns: Any, sqs: Any, r: SnsReplay) -> None:
        topic_attributes = {"FifoTopic": "true"}
        queue_attributes = {"FifoQueue": "true"}
        if content_based:
            topic_attributes["ContentBasedDeduplication"] = "true"
        if content_based if queue_content_based is None else queue_content_based:
            queue_attributes["ContentBasedDeduplication"] = "true"
        arn = sns.create_topic(Name=_name(".fifo"), Attributes=topic_attributes)["TopicArn"]
        url = sqs.create_queue(QueueName=f"queue-{uuid.uuid4().hex[:8]}.fifo", Attributes=queue_attributes)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        kwargs = {"MessageGroupId": "message-group-id-1"}
        if not content_based:
            kwargs["MessageDeduplicationId"] = "message-deduplication-id-1"
        sns.publish(TopicArn=arn, Message="Test", **kwargs)
        received = r.call("messages", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["All"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=received["Messages"][0]["ReceiptHandle"])
        sns.publish(TopicArn=arn, Message="Test", **kwargs)  # a duplicate within the topic's window
        r.call("dedup-messages", sqs.receive_message, QueueUrl=url, WaitTimeSeconds=1, AttributeNames=["All"])

    return run


SCENARIOS["TestSNSSubscriptionSQSFifo::test_message_to_fifo_sqs[True]"] = _fifo_to_fifo_queue(True)
SCENARIOS["TestSNSSubscriptionSQSFifo::test_message_to_fifo_sqs[False]"] = _fifo_to_fifo_queue(False)
SCENARIOS["TestSNSSubscriptionSQSFifo::test_publish_to_fifo_topic_deduplication_on_topic_level"] = _fifo_to_fifo_queue(
    True, queue_content_based=False
)


def _fifo_dlq(raw: bool) -> Scenario:
    def run(sns: Any, sqs: Any, r: SnsReplay) -> None:
        arn = sns.create_topic(Name=_name(".fifo"), Attributes={"FifoTopic": "true"})["TopicArn"]
        r.call("topic-attrs", sns.get_topic_attributes, TopicArn=arn)

        def fifo_queue(prefix: str) -> tuple[str, str]:
            url = sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})
            url = url["QueueUrl"]
            return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        url, queue_arn = fifo_queue("queue")
        sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
        if raw:
            sns.set_subscription_attributes(
                SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true"
            )
        dlq_url, dlq_arn = fifo_queue("dlq")
        sns.set_subscription_attributes(
            SubscriptionArn=sub,
            AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}),
        )
        sqs.delete_queue(QueueUrl=url)
        group = "complexMessageGroupId"
        entries = [
            {
                "Id": "1",
                "MessageGroupId": group,
                "Message": "Test Message with two attributes",
                "Subject": "Subject",
                "MessageAttributes": {
                    "attr1": {"DataType": "Number", "StringValue": "99.12"},
                    "attr2": {"DataType": "Number", "StringValue": "109.12"},
                },
                "MessageDeduplicationId": "MessageDeduplicationId-1",
            },
            {
                "Id": "2",
                "MessageGroupId": group,
                "Message": "Test Message with one attribute",
                "Subject": "Subject",
                "MessageAttributes": {"attr1": {"DataType": "Number", "StringValue": "19.12"}},
                "MessageDeduplicationId": "MessageDeduplicationId-2",
            },
            {
                "Id": "3",
                "MessageGroupId": group,
                "Message": "Test Message without attribute",
                "Subject": "Subject",
                "MessageDeduplicationId": "MessageDeduplicationId-3",
            },
        ]
        r.call("publish-batch-response-fifo", sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=entries)

        def drain(expect: int) -> dict[str, Any]:
            messages: list[dict[str, Any]] = []
            for _ in range(10):
                got = sqs.receive_message(
                    QueueUrl=dlq_url,
                    MessageAttributeNames=["All"],
                    AttributeNames=["All"],
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    VisibilityTimeout=1,
                ).get("Messages", [])
                for message in got:
                    if "MD5OfMessageAttributes" in message:
                        message["MD5OfMessageAttributes"] = "<md5-hash>"  # as recorded
                    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                messages.extend(got)
                if len(messages) >= expect:
                    break
            return {"Messages": messages}

        r.match("batch-messages-in-dlq", drain(3))
        r.call(
            "publish-response-fifo",
            sns.publish,
            TopicArn=arn,
            Message="test-message",
            MessageGroupId="message-group-id-1",
            MessageDeduplicationId="message-deduplication-id-1",
        )
        r.match("messages-in-dlq", drain(1))

    return run


SCENARIOS["TestSNSSubscriptionSQSFifo::test_publish_fifo_messages_to_dlq[True]"] = _fifo_dlq(True)
SCENARIOS["TestSNSSubscriptionSQSFifo::test_publish_fifo_messages_to_dlq[False]"] = _fifo_dlq(False)


def _xml(text: str) -> dict[str, Any]:
    """An XML response as xmltodict shapes it (what the upstream test snapshots), without namespaces."""

    def convert(element: ElementTree.Element) -> Any:
        children = list(element)
        if not children:
            return element.text or None
        return {child.tag.split("}")[-1]: convert(child) for child in children}

    root = ElementTree.fromstring(text)
    return {root.tag.split("}")[-1]: convert(root)}


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    parsed = _xml(text)
    for fields in parsed.values():
        if isinstance(fields, dict) and "ResponseMetadata" in fields:
            fields["ResponseMetadata"] = {"HTTPHeaders": {}, "HTTPStatusCode": status}
    return parsed


def _headers(headers: dict[str, str]) -> dict[str, str]:
    """As the upstream test's server (werkzeug) shows them: Title-Case names; the recording masks two values."""
    shown = {"-".join(p.capitalize() for p in name.split("-")): value for name, value in headers.items()}
    shown["Connection"], shown["Content-Length"] = "connection", "content--length"
    return shown


def _external_http_endpoint(raw: bool) -> Scenario:
    def run(sns: Any, sqs: Any, r: SnsReplay) -> None:
        endpoint = HttpEndpoint()
        try:
            topic = sns.create_topic(Name=_name())["TopicArn"]
            attributes = {"RawMessageDelivery": "true"} if raw else {}
            sub = sns.subscribe(
                TopicArn=topic,
                Protocol="http",
                Endpoint=endpoint.url,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            headers, confirmation = endpoint.next()
            assert isinstance(confirmation, dict)
            r.match("subscription-confirmation", confirmation)
            r.match("http-confirm-sub-headers", _headers(headers))
            token, url = confirmation["Token"], confirmation["SubscribeURL"]
            service = url.rsplit("/", 1)[0]
            confirm = f"{service}/?Action=ConfirmSubscription"
            r.match("broken-topic-arn-confirm", _get(f"{confirm}&TopicArn=not-an-arn&Token={token}"))
            r.match("broken-token-confirm", _get(f"{confirm}&TopicArn={topic}&Token=abc123"))
            elsewhere = topic.replace(f":{REGION}:", ":eu-central-1:")
            r.match("different-region-arn-confirm", _get(f"{confirm}&TopicArn={elsewhere}&Token={token}"))
            nonexistent = topic[:-1] + ("a" if topic[-1] != "a" else "b")
            r.match("nonexistent-token-confirm", _get(f"{confirm}&TopicArn={nonexistent}&Token={token}"))
            r.match("confirm-subscribe", _get(url))
            sns.publish(TopicArn=topic, Message="test_external_http_endpoint")
            headers, message = endpoint.next()
            if raw:
                r.match("http-message-headers-raw", _headers(headers))
            else:
                r.match("http-message", message)
                r.match("http-message-headers", _headers(headers))
            r.match("unsubscribe-response", _get(f"{service}/?Action=Unsubscribe&SubscriptionArn={sub}"))
            r.match("unsubscribe-request", endpoint.next()[1])
        finally:
            endpoint.close()

    return run


SCENARIOS["TestSNSSubscriptionHttp::test_subscribe_external_http_endpoint[True]"] = _external_http_endpoint(True)
SCENARIOS["TestSNSSubscriptionHttp::test_subscribe_external_http_endpoint[False]"] = _external_http_endpoint(False)


def _redrive_sqs(raw: bool) -> Scenario:
    def run(sns: Any, sqs: Any, r: SnsReplay) -> None:
        arn = sns.create_topic(Name=_name())["TopicArn"]
        url, qarn = _queue(sqs)
        dlq_url, dlq_arn = _queue(sqs)
        attributes = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})}
        if raw:
            attributes["RawMessageDelivery"] = "true"
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes=attributes)
        sqs.delete_queue(QueueUrl=url)
        message_attributes: dict[str, dict[str, Any]] = {
            "attr1": {"DataType": "Number", "StringValue": "111"},
            "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
        }
        sns.publish(TopicArn=arn, Message="test_dlq_after_sqs_endpoint_deleted", MessageAttributes=message_attributes)
        received = sqs.receive_message(
            QueueUrl=dlq_url, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=5
        )
        for message in received.get("Messages", []):
            if "MD5OfMessageAttributes" in message:
                assert message["MD5OfMessageAttributes"] == md5_attributes(message_attributes)
                message["MD5OfMessageAttributes"] = "<md5-hash>"  # as recorded
        r.match("messages", received)

    return run


SCENARIOS["TestSNSSubscriptionSQS::test_redrive_policy_sqs_queue_subscription[True]"] = _redrive_sqs(True)
SCENARIOS["TestSNSSubscriptionSQS::test_redrive_policy_sqs_queue_subscription[False]"] = _redrive_sqs(False)


@pytest.mark.parametrize("test_id", sorted(SCENARIOS))
def test_recorded(test_id: str, sns: Any, sqs: Any) -> None:
    replay = SnsReplay(test_id)
    SCENARIOS[test_id](sns, sqs, replay)
    replay.verify()
