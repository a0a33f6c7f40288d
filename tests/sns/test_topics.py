"""SNS topics and subscriptions over the query protocol with boto3: CRUD, attributes, tags, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return {
        "Code": info.value.response["Error"]["Code"],
        "Message": info.value.response["Error"]["Message"],
        "Type": info.value.response["Error"].get("Type"),
        "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_create_topic_is_idempotent_and_listed(sns: Any, make_topic: Any) -> None:
    arn = make_topic("idem-topic-a", Tags=[{"Key": "k", "Value": "v"}])
    assert arn.endswith(":000000000000:idem-topic-a") or arn.split(":")[5] == "idem-topic-a"
    assert sns.create_topic(Name="idem-topic-a", Tags=[{"Key": "k", "Value": "v"}])["TopicArn"] == arn
    assert sns.create_topic(Name="idem-topic-a")["TopicArn"] == arn
    err = _error(sns.create_topic, Name="idem-topic-a", Tags=[{"Key": "k", "Value": "other"}])
    assert err == {
        "Code": "InvalidParameter",
        "Message": "Invalid parameter: Tags Reason: Topic already exists with different tags",
        "Type": "Sender",
        "Status": 400,
    }
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert arn in arns
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2"}]


def test_list_topics_pages(sns: Any, make_topic: Any) -> None:
    mine = {make_topic() for _ in range(105)}
    seen: set[str] = set()
    token = None
    pages = 0
    while True:
        page = sns.list_topics(NextToken=token) if token else sns.list_topics()
        pages += 1
        seen.update(t["TopicArn"] for t in page["Topics"])
        token = page.get("NextToken")
        if not token:
            break
    assert mine <= seen and pages >= 2


def test_topic_attributes(sns: Any, make_topic: Any) -> None:
    arn = make_topic(Attributes={"DisplayName": "Hello"})
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Hello"
    assert attrs["TopicArn"] == arn
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Other")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Other"
    fifo = make_topic("t-fifo-attrs.fifo", Attributes={"FifoTopic": "true"})
    fattrs = sns.get_topic_attributes(TopicArn=fifo)["Attributes"]
    assert fattrs["FifoTopic"] == "true" and fattrs["ContentBasedDeduplication"] == "false"


def test_topic_errors(sns: Any, make_topic: Any) -> None:
    arn = make_topic()
    missing = arn + "-missing"
    assert _error(sns.get_topic_attributes, TopicArn=missing) == {
        "Code": "NotFound",
        "Message": "Topic does not exist",
        "Type": "Sender",
        "Status": 404,
    }
    assert _error(sns.get_topic_attributes, TopicArn="bad")["Message"] == (
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    )
    assert _error(sns.create_topic, Name="bad name")["Message"] == "Invalid parameter: Topic Name"
    assert _error(sns.publish, TopicArn=missing, Message="x")["Code"] == "NotFound"
    sns.delete_topic(TopicArn=missing)  # idempotent


def test_subscriptions_crud(sns: Any, make_topic: Any, make_queue: Any) -> None:
    topic = make_topic()
    _, queue_arn = make_queue()
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
    sub_arn = sub["SubscriptionArn"]
    assert sub_arn.startswith(topic + ":")
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert again == sub_arn
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["Protocol"] == "sqs" and attrs["Endpoint"] == queue_arn
    assert attrs["PendingConfirmation"] == "false" and attrs["RawMessageDelivery"] == "false"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [sub_arn]
    assert sub_arn in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(
        SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue=json.dumps({"a": ["b"]})
    )
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    assert json.loads(attrs["FilterPolicy"]) == {"a": ["b"]}
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    err = _error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub_arn,
        AttributeName="RawMessageDelivery",
        AttributeValue="test-ValUe",
    )
    assert err["Message"] == "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."
    assert _error(
        sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"}
    )["Message"] == ("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
    sns.unsubscribe(SubscriptionArn=sub_arn)
    sns.unsubscribe(SubscriptionArn=sub_arn)  # idempotent
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert _error(sns.get_subscription_attributes, SubscriptionArn=sub_arn) == {
        "Code": "NotFound",
        "Message": "Subscription does not exist",
        "Type": "Sender",
        "Status": 404,
    }


def test_subscribe_errors(sns: Any, make_topic: Any) -> None:
    topic = make_topic()
    err = _error(sns.subscribe, TopicArn=topic, Protocol="test-protocol", Endpoint="x")
    assert err["Message"] == "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"
    err = _error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint="http://localhost/queue")
    assert err["Message"] == "Invalid parameter: SQS endpoint ARN"
    err = _error(
        sns.subscribe,
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:1:q",
        Attributes={"FilterPolicy": "{invalid"},
    )
    assert err["Code"] == "InvalidParameter" and "FilterPolicy: failed to parse JSON" in err["Message"]
    err = _error(sns.subscribe, TopicArn=topic, Protocol="application", Endpoint="arn:aws:sns:us-east-1:1:endpoint/x")
    assert err["Code"] == "InvalidParameter" and "mobile push" in err["Message"]


def test_delete_topic_removes_its_subscriptions(sns: Any, make_queue: Any) -> None:
    topic = sns.create_topic(Name="t-delete-subs")["TopicArn"]
    _, queue_arn = make_queue()
    sub_arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic)
    assert _error(sns.get_subscription_attributes, SubscriptionArn=sub_arn)["Code"] == "NotFound"


def test_publish_errors(sns: Any, make_topic: Any) -> None:
    topic = make_topic()
    assert _error(sns.publish, TopicArn=topic, Message="")["Message"] == "Invalid parameter: Empty message"
    assert (
        _error(sns.publish, TopicArn=topic, Message="x" * 262_145)["Message"] == "Invalid parameter: Message too long"
    )
    assert _error(sns.publish, TopicArn=topic, Message="x", Subject="")["Message"] == "Invalid parameter: Subject"
    assert _error(sns.publish, TopicArn=topic, Message="{}", MessageStructure="json")["Message"] == (
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )
    assert _error(sns.publish, TopicArn=topic, Message="{x", MessageStructure="json")["Message"] == (
        "Invalid parameter: Message Structure - JSON message body failed to parse"
    )
    err = _error(sns.publish, PhoneNumber="+1a234", Message="x")
    assert err["Message"] == "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to"
    err = _error(
        sns.publish, TopicArn=topic, Message="x", MessageAttributes={"attr1": {"DataType": "String", "StringValue": ""}}
    )
    assert err == {
        "Code": "ParameterValueInvalid",
        "Message": "The message attribute 'attr1' must contain non-empty message attribute value for message "
        "attribute type 'String'.",
        "Type": "Sender",
        "Status": 400,
    }
    err = _error(
        sns.publish_batch,
        TopicArn=topic,
        PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}, {"Id": "1", "Message": "b"}],
    )
    assert err["Code"] == "BatchEntryIdsNotDistinct"
    err = _error(
        sns.publish_batch,
        TopicArn=topic,
        PublishBatchRequestEntries=[{"Id": str(i), "Message": "a"} for i in range(11)],
    )
    assert err["Code"] == "TooManyEntriesInBatchRequest"
    assert sns.publish(TargetArn=topic, Message="via target")["MessageId"]
    err = _error(sns.publish, TargetArn=topic + "-nope", Message="x")
    assert err["Message"] == "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"


def test_unknown_action_is_invalid_action(lamina: Any) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        lamina.url + "/",
        data=b"Action=NoSuchThing&Version=2010-03-31",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sns/aws4_request, Signature=x",
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    body = info.value.read().decode()
    assert info.value.code == 400
    assert "<Code>InvalidAction</Code>" in body and "<Type>Sender</Type>" in body


def test_topics_survive_restart(fresh_lamina: Any) -> None:
    server = fresh_lamina()
    sns = server.client("sns")
    sqs = server.client("sqs")
    topic = sns.create_topic(Name="durable", Attributes={"DisplayName": "D"})["TopicArn"]
    url = sqs.create_queue(QueueName="durable-q")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    server.kill()
    server.start()
    sns = server.client("sns")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "D"
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    sns.publish(TopicArn=topic, Message="after restart")
    got = server.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "after restart"
