"""Bucket notifications against a real Lamina: configuration and AWS's validation errors (compared with the vendored
services__s3__test_s3_notifications_* recordings), records delivered to SQS, SNS, Lambda (async, as
s3.amazonaws.com) and EventBridge, prefix/suffix filters, and the s3:TestEvent sent to queues on configure."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.s3.test_buckets import error_of
from tests.server import LaminaProcess

RECORDED = Path(__file__).resolve().parents[1] / "conformance" / "aws-recorded"
ACCOUNT = "000000000000"
RULES = [{"Name": "prefix", "Value": "testupload/"}, {"Name": "Suffix", "Value": "testfile.txt"}]
RECORDED_SQS_ARN = "arn:<partition>:sqs:<region>:111111111111"


def recorded(kind: str, test: str) -> dict[str, Any]:
    data = json.loads((RECORDED / f"services__s3__test_s3_notifications_{kind}.snapshot.json").read_text())
    key = next(k for k in data if k.endswith("::" + test))
    content: dict[str, Any] = data[key]["recorded-content"]
    return content


def shape(value: Any) -> Any:
    """Keys and value types only: the recordings' values are placeholders."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


@pytest.fixture(scope="module")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


@pytest.fixture
def queue(sqs: Any) -> Iterator[tuple[str, str]]:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def receive(sqs: Any, url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in got:
            found.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return found


def nothing_more(sqs: Any, url: str) -> None:
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_queue_records_with_filters(s3: Any, sqs: Any, bucket: str, queue: tuple[str, str]) -> None:
    url, arn = queue
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "uploads",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "testupload/"},
                                {"Name": "Suffix", "Value": "testfile.txt"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    test_event = receive(sqs, url, 1)[0]
    assert (test_event["Service"], test_event["Event"], test_event["Bucket"]) == ("Amazon S3", "s3:TestEvent", bucket)
    assert {"Time", "RequestId", "HostId"} <= set(test_event)
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    expected = recorded("sqs", "test_notifications_with_filter")["config"]["QueueConfigurations"][0]
    got = config["QueueConfigurations"][0]
    assert got["Filter"] == expected["Filter"]  # names given in any case come back as Prefix / Suffix
    assert (got["Id"], got["QueueArn"], got["Events"]) == ("uploads", arn, expected["Events"])
    body = b"some text for testupload/testfile"
    s3.put_object(Bucket=bucket, Key="testupload/dir1/testfile.txt", Body=body)
    s3.put_object(Bucket=bucket, Key="elsewhere/testfile.txt", Body=b"no")  # prefix does not match
    s3.put_object(Bucket=bucket, Key="testupload/other.bin", Body=b"no")  # suffix does not match
    [message] = receive(sqs, url, 1)
    [record] = message["Records"]
    sample = recorded("sqs", "test_notifications_with_filter")["message"]
    assert shape(record) == shape(sample)
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "uploads"
    assert record["s3"]["bucket"] == {"name": bucket, "ownerIdentity": record["s3"]["bucket"]["ownerIdentity"],
                                      "arn": f"arn:aws:s3:::{bucket}"}  # fmt: skip
    assert record["s3"]["object"]["eTag"] == hashlib.md5(body).hexdigest()
    assert record["s3"]["object"]["size"] == len(body)
    assert record["awsRegion"] == "us-east-1"
    s3.copy_object(
        Bucket=bucket, Key="testupload/copy/testfile.txt", CopySource=f"{bucket}/testupload/dir1/testfile.txt"
    )
    s3.delete_object(Bucket=bucket, Key="testupload/dir1/testfile.txt")
    events = [m["Records"][0] for m in receive(sqs, url, 2)]
    assert [(e["eventName"], e["s3"]["object"]["key"]) for e in events] == [
        ("ObjectCreated:Copy", "testupload/copy/testfile.txt"),
        ("ObjectRemoved:Delete", "testupload/dir1/testfile.txt"),
    ]
    assert "size" not in events[1]["s3"]["object"] and "eTag" not in events[1]["s3"]["object"]
    assert events[0]["s3"]["object"]["sequencer"] < events[1]["s3"]["object"]["sequencer"]
    nothing_more(sqs, url)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="testupload/x/testfile.txt", Body=b"unheard")
    nothing_more(sqs, url)


def test_key_encoding_versions_and_multipart(s3: Any, sqs: Any, make_bucket: Callable[..., str],
                                             queue: tuple[str, str]) -> None:  # fmt: skip
    url, arn = queue
    bucket = make_bucket(versioned=True)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*",
                                                                                         "s3:ObjectRemoved:*"]}]},
    )  # fmt: skip
    receive(sqs, url, 1)  # the test event
    version = s3.put_object(Bucket=bucket, Key="photos/red flower+1.jpg", Body=b"x")["VersionId"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})  # fmt: skip
    marker = s3.delete_object(Bucket=bucket, Key="big")["VersionId"]
    records = [m["Records"][0] for m in receive(sqs, url, 3)]
    assert records[0]["s3"]["object"]["key"] == "photos/red+flower%2B1.jpg"
    assert records[0]["s3"]["object"]["versionId"] == version
    assert records[1]["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert records[1]["s3"]["object"]["eTag"].endswith("-1")
    assert (records[2]["eventName"], records[2]["s3"]["object"]["versionId"]) == (
        "ObjectRemoved:DeleteMarkerCreated",
        marker,
    )


def test_validation_errors_as_aws_gives_them(s3: Any, sqs: Any, bucket: str, lambda_client: Any) -> None:
    def put(config: dict[str, Any], skip: bool = False) -> dict[str, Any]:
        try:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                                     SkipDestinationValidation=skip)  # fmt: skip
        except s3.exceptions.ClientError as error:
            return dict(error.response["Error"])
        return {}

    missing_queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:my-queue"
    for kind, member, arn_member in (("sqs", "QueueConfigurations", "QueueArn"),
                                     ("sns", "TopicConfigurations", "TopicArn"),
                                     ("lambda", "LambdaFunctionConfigurations", "LambdaFunctionArn")):  # fmt: skip
        test = {"sqs": "test_invalid_sqs_arn", "sns": "test_invalid_topic_arn", "lambda": "test_invalid_lambda_arn"}
        entry = recorded(kind, test[kind])
        value = entry["invalid_not_skip"]["Error"]["ArgumentValue"]
        for name, skip in (("invalid_not_skip", False), ("invalid_skip", True)):
            error = put({member: [{"Id": "id123", arn_member: value, "Events": ["s3:ObjectCreated:*"]}]}, skip)
            assert (
                error == {**entry[name]["Error"], "BucketName": error.get("BucketName")}
                or error == entry[name]["Error"]
            )
    error = put({"QueueConfigurations": [{"QueueArn": missing_queue, "Events": ["s3:ObjectCreated:*"]}]})
    expected = recorded("sqs", "test_invalid_sqs_arn")["queue-does-not-exist"]["Error"]
    assert error == {k: v.replace(RECORDED_SQS_ARN, f"arn:aws:sqs:us-east-1:{ACCOUNT}") for k, v in expected.items()}
    two = [{"QueueArn": missing_queue, "Events": ["s3:ObjectCreated:*"]},
           {"QueueArn": missing_queue + "-2", "Events": ["s3:ObjectRemoved:*"]}]  # fmt: skip
    expected = recorded("sqs", "test_multiple_invalid_sqs_arns")["multiple-queues-do-not-exist"]["Error"]
    assert put({"QueueConfigurations": two}) == {
        k: v.replace("arn:<partition>:sqs:<region>:111111111111", f"arn:aws:sqs:us-east-1:{ACCOUNT}")
        for k, v in expected.items()
    }
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:my-lambda"
    error = put({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}]})
    expected = recorded("lambda", "test_invalid_lambda_arn")["lambda-does-not-exist"]["Error"]
    assert error == {
        k: v.replace("arn:<partition>:lambda:<region>:111111111111", f"arn:aws:lambda:us-east-1:{ACCOUNT}")
        for k, v in expected.items()
    }
    assert put({"QueueConfigurations": [{"Id": "id123", "QueueArn": missing_queue,
                                         "Events": ["s3:ObjectCreated:*"]}]}, skip=True) == {}  # fmt: skip
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert got == [{"Id": "id123", "QueueArn": missing_queue, "Events": ["s3:ObjectCreated:*"]}]
    overlapping = [{"QueueArn": missing_queue, "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"}]}}},
                   {"QueueArn": missing_queue, "Events": ["s3:ObjectCreated:Put"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/thumbs/"}]}}}]  # fmt: skip
    error = put({"QueueConfigurations": overlapping}, skip=True)
    assert error["Code"] == "InvalidArgument"
    assert error["Message"].startswith("Configuration is ambiguously defined.")
    error = put({"QueueConfigurations": [{"QueueArn": missing_queue, "Events": ["s3:Object:Nope"]}]}, skip=True)
    assert (error["Code"], error["Message"]) == ("InvalidArgument", "The event is not supported for notifications")
    # a refused configuration changed nothing
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"] == got
    code, message, status, _ = error_of(s3.get_bucket_notification_configuration, Bucket="no-such-bucket-notif")
    expected = recorded("sns", "test_bucket_not_exist")["bucket_not_exists"]
    assert (code, message, status) == (expected["Error"]["Code"], expected["Error"]["Message"], 404)


def test_a_queue_policy_must_grant_s3_even_without_auth(s3: Any, sqs: Any, bucket: str, queue: tuple[str, str]) -> None:
    """Under --auth none a queue with no policy at all takes notifications (an emulator's habit, see README); one
    whose policy does not grant s3.amazonaws.com for the bucket is refused as AWS refuses it, and a grant taken
    away later drops the deliveries."""
    url, arn = queue
    config = {"QueueConfigurations": [{"Id": "q", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}

    def policy(source: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{source}"}}}]})  # fmt: skip

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy("another-bucket")})
    code, message, status, error = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration=config
    )
    assert (code, message, status) == ("InvalidArgument", "Unable to validate the following destination configurations",
                                       400)  # fmt: skip
    assert (error["ArgumentName1"], error["ArgumentValue1"]) == (
        arn,
        "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
    )
    # SkipDestinationValidation saves it anyway; deliveries are still checked
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)  # fmt: skip
    s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(bucket)})
    s3.put_object(Bucket=bucket, Key="granted", Body=b"x")
    assert [m["Records"][0]["s3"]["object"]["key"] for m in receive(sqs, url, 2, timeout=5)] == ["granted"]


def test_topic_and_event_bus(lamina: LaminaProcess, s3: Any, sqs: Any, bucket: str, queue: tuple[str, str]) -> None:
    url, queue_arn = queue
    sns = lamina.client("sns")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    events = lamina.client("events")
    rule = f"r-{uuid.uuid4().hex[:10]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                                         "detail": {"bucket": {"name": [bucket]}}}))  # fmt: skip
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    try:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}],
                "EventBridgeConfiguration": {},
            },
        )
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
        assert "EventBridgeConfiguration" in config
        s3.put_object(Bucket=bucket, Key="bucket-key", Body=b"hello world")
        got = receive(sqs, url, 2)
        by_type = {m.get("Type") or m.get("detail-type"): m for m in got}
        note = by_type["Notification"]
        assert note["Subject"] == "Amazon S3 Notification"
        assert note["TopicArn"] == topic
        [record] = json.loads(note["Message"])["Records"]
        sample = recorded("sns", "test_object_created_put")["receive_messages"]["messages"][0]["Message"]["Records"][0]
        assert shape(record) == shape(sample)
        assert record["s3"]["object"] == {"key": "bucket-key", "size": 11,
                                          "eTag": hashlib.md5(b"hello world").hexdigest(),
                                          "sequencer": record["s3"]["object"]["sequencer"]}  # fmt: skip
        event = by_type["Object Created"]
        assert (event["source"], event["resources"]) == ("aws.s3", [f"arn:aws:s3:::{bucket}"])
        detail = event["detail"]
        assert detail["bucket"] == {"name": bucket}
        assert detail["object"]["key"] == "bucket-key" and detail["object"]["size"] == 11
        assert detail["reason"] == "PutObject"
        assert {"version", "request-id", "requester", "source-ip-address"} <= set(detail)
    finally:
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)
        sns.delete_topic(TopicArn=topic)


def test_function_triggered_by_uploads_under_a_prefix(
    lamina: LaminaProcess, s3: Any, sqs: Any, bucket: str, queue: tuple[str, str], lambda_client: Any,
    create_function: Callable[..., Any],
) -> None:  # fmt: skip
    url, queue_arn = queue
    name = f"fn-{uuid.uuid4().hex[:12]}"
    create_function(name, Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return 'seen'\n"})})
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    images = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}
    config = {
        "LambdaFunctionConfigurations": [
            {"Id": "thumbs", "LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"], "Filter": images}
        ]
    }
    code, message, _, _ = error_of(s3.put_bucket_notification_configuration, Bucket=bucket,
                                   NotificationConfiguration=config)  # fmt: skip
    assert (code, message) == ("InvalidArgument", "Unable to validate the following destination configurations")
    lambda_client.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                 Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
                                 SourceAccount=ACCOUNT)  # fmt: skip
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"not an image")
    s3.put_object(Bucket=bucket, Key="images/cat.jpg", Body=b"an image")
    [outcome] = receive(sqs, url, 1, timeout=60)
    assert outcome["responsePayload"] == "seen"
    [record] = outcome["requestPayload"]["Records"]
    assert (record["eventName"], record["s3"]["object"]["key"]) == ("ObjectCreated:Put", "images/cat.jpg")
    assert record["s3"]["configurationId"] == "thumbs"
    nothing_more(sqs, url)
    # the function deleted: the upload still succeeds, the delivery failure is counted
    lambda_client.delete_function(FunctionName=name)
    assert s3.put_object(Bucket=bucket, Key="images/dog.jpg", Body=b"x")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_delivered_notification_survives_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    s3, sqs = server.client("s3"), server.client("sqs")
    s3.create_bucket(Bucket="durable-notes")
    url = sqs.create_queue(QueueName="durable-notes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket="durable-notes",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket="durable-notes", Key="k", Body=b"acknowledged")
    server.kill()  # right after the answer: the notification was committed before it
    again = fresh_lamina(data_dir=server.data_dir)
    sqs = again.client("sqs")
    bodies = receive(sqs, url.replace(str(server.port), str(again.port)), 2)
    assert [b.get("Event") or b["Records"][0]["s3"]["object"]["key"] for b in bodies] == ["s3:TestEvent", "k"]
