"""Pollers against a real server: the event shape, FIFO order per group, filter criteria, disable/enable,
delete stops polling, and a restart resumes the mappings."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.esm.collector import POST, Collector
from tests.esm.conftest import queue_counts, wait_for, wait_settled
from tests.server import ROLE

RECORDER = (
    POST
    + """
def handler(event, context):
    post(event)
    return {}
"""
)


def _records(collector: Collector) -> list[dict[str, Any]]:
    return [r for event in collector.snapshot() for r in event["Records"]]


def test_event_shape(lambda_client: Any, sqs: Any, make_queue: Any, make_function: Any, mappings: list[str]) -> None:
    url, arn = make_queue()
    with Collector() as collector:
        fn = make_function(RECORDER, env={"COLLECTOR": collector.url})
        esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
        mappings.append(esm["UUID"])
        sent = sqs.send_message(
            QueueUrl=url,
            MessageBody='{"foo": "bar"}',
            MessageAttributes={
                "s": {"DataType": "String", "StringValue": "v"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        )
        records = wait_for(lambda: _records(collector))
    (rec,) = records
    assert list(rec) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfMessageAttributes",
        "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    ]  # fmt: skip
    assert rec["messageId"] == sent["MessageId"]
    assert rec["body"] == '{"foo": "bar"}'
    assert rec["md5OfBody"] == sent["MD5OfMessageBody"]
    assert rec["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert rec["eventSource"] == "aws:sqs" and rec["eventSourceARN"] == arn and rec["awsRegion"] == "us-east-1"
    assert set(rec["attributes"]) == {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"
    }  # fmt: skip
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"
    assert rec["messageAttributes"]["s"] == {
        "stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"
    }  # fmt: skip
    assert rec["messageAttributes"]["b"] == {
        "binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"
    }  # fmt: skip
    wait_for(lambda: queue_counts(sqs, url) == (0, 0, 0))


def test_fifo_keeps_order_per_group(
    lambda_client: Any, sqs: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    url, arn = make_queue(fifo=True, ContentBasedDeduplication="true", VisibilityTimeout="2")
    with Collector() as collector:
        fn = make_function(RECORDER, env={"COLLECTOR": collector.url}, Timeout=2)
        for i in range(60):
            group = f"g{i % 3}"
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"g": group, "i": i}), MessageGroupId=group)
        esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=4)
        mappings.append(esm["UUID"])
        records = wait_for(lambda: (r := _records(collector)) and len(r) >= 60 and r)
    seen: dict[str, list[int]] = {}
    for r in records:
        body = json.loads(r["body"])
        assert r["attributes"]["MessageGroupId"] == body["g"]
        assert "SequenceNumber" in r["attributes"] and "MessageDeduplicationId" in r["attributes"]
        seen.setdefault(body["g"], []).append(body["i"])
    assert {g: sorted(v) for g, v in seen.items()} == seen
    assert sum(len(v) for v in seen.values()) == 60


def test_filter_criteria_drops_and_deletes(
    lambda_client: Any, sqs: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    url, arn = make_queue()
    with Collector() as collector:
        fn = make_function(RECORDER, env={"COLLECTOR": collector.url})
        esm = lambda_client.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=fn,
            BatchSize=1,
            FilterCriteria={
                "Filters": [
                    {"Pattern": json.dumps({"body": {"kind": ["keep"], "n": [{"numeric": [">", 1]}]}})},
                    {"Pattern": json.dumps({"body": ["plain keep"]})},
                ]
            },
        )
        mappings.append(esm["UUID"])
        assert esm["FilterCriteria"]["Filters"][1]["Pattern"] == '{"body": ["plain keep"]}'
        for body in (
            {"kind": "keep", "n": 2},
            {"kind": "keep", "n": 1},
            {"kind": "drop", "n": 5},
            "plain keep",
            "plain drop",
        ):
            sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))
        wait_for(lambda: queue_counts(sqs, url) == (0, 0, 0))
        time.sleep(0.3)
        bodies = sorted(r["body"] for r in _records(collector))
    assert bodies == sorted([json.dumps({"kind": "keep", "n": 2}), "plain keep"])


def test_disable_enable_and_delete(
    lambda_client: Any, sqs: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    url, arn = make_queue()
    with Collector() as collector:
        fn = make_function(RECORDER, env={"COLLECTOR": collector.url})
        esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn)
        mappings.append(esm["UUID"])
        with pytest.raises(lambda_client.exceptions.ResourceInUseException):
            lambda_client.update_event_source_mapping(UUID=esm["UUID"], BatchSize=5)
        assert wait_settled(lambda_client, esm["UUID"]) == "Enabled"
        sqs.send_message(QueueUrl=url, MessageBody="one")
        wait_for(lambda: len(_records(collector)) == 1)

        disabling = lambda_client.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
        assert disabling["State"] == "Disabling"
        assert wait_settled(lambda_client, esm["UUID"]) == "Disabled"
        sqs.send_message(QueueUrl=url, MessageBody="two")
        time.sleep(1.0)
        assert len(_records(collector)) == 1
        assert queue_counts(sqs, url) == (1, 0, 0)

        assert lambda_client.update_event_source_mapping(UUID=esm["UUID"], Enabled=True)["State"] == "Enabling"
        assert wait_settled(lambda_client, esm["UUID"]) == "Enabled"
        wait_for(lambda: len(_records(collector)) == 2)

        listed = lambda_client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        assert [m["UUID"] for m in listed] == [esm["UUID"]]
        assert (
            lambda_client.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"][0]["UUID"] == esm["UUID"]
        )

        deleted = lambda_client.delete_event_source_mapping(UUID=esm["UUID"])
        assert deleted["State"] == "Deleting"
        assert wait_settled(lambda_client, esm["UUID"]) == "Gone"
        sqs.send_message(QueueUrl=url, MessageBody="three")
        time.sleep(1.0)
        assert len(_records(collector)) == 2
        assert queue_counts(sqs, url) == (1, 0, 0)


SLOW_RECORDER = (
    POST
    + """
import time

def handler(event, context):
    post({"enter": context.aws_request_id})
    time.sleep(0.4)
    post({"leave": context.aws_request_id})
    return {}
"""
)


def test_concurrency_is_bounded_by_maximum_concurrency(
    lambda_client: Any, sqs: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    """A backlog would start five batches at once; ScalingConfig.MaximumConcurrency 2 keeps two running,
    as the function itself sees (enter/leave posts in the order they happened)."""
    url, arn = make_queue()
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    with Collector() as collector:
        fn = make_function(SLOW_RECORDER, env={"COLLECTOR": collector.url})
        esm = lambda_client.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=fn, BatchSize=1, ScalingConfig={"MaximumConcurrency": 2}
        )
        mappings.append(esm["UUID"])
        assert esm["ScalingConfig"] == {"MaximumConcurrency": 2}
        posts = wait_for(lambda: (p := collector.snapshot()) and len(p) >= 24 and p, timeout=60)
    running = peak = 0
    for post in posts:
        running += 1 if "enter" in post else -1
        peak = max(peak, running)
    assert peak == 2
    assert len({p["enter"] for p in posts if "enter" in p}) == 12
    wait_for(lambda: queue_counts(sqs, url) == (0, 0, 0))


def test_visibility_timeout_below_function_timeout_is_refused(
    lambda_client: Any, make_queue: Any, make_function: Any
) -> None:
    _, arn = make_queue(VisibilityTimeout="2")
    fn = make_function(RECORDER, Timeout=5)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
        lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn)
    assert e.value.response["Error"]["Message"] == (
        "Queue visibility timeout: 2 seconds is less than Function timeout: 5 seconds"
    )


@pytest.mark.slow
def test_restart_resumes(fresh_lamina: Any) -> None:
    server = fresh_lamina()
    lam, sqs = server.client(), server.client("sqs")
    url = sqs.create_queue(QueueName="resume-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with Collector() as collector:
        name = f"resume-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="handler.handler",
            Code={"ZipFile": make_zip({"handler.py": RECORDER})},
            Environment={"Variables": {"COLLECTOR": collector.url}},
        )  # fmt: skip
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
        esm = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
        assert wait_settled(lam, esm["UUID"]) == "Enabled"
        server.stop()

        server = fresh_lamina(data_dir=server.data_dir)
        lam, sqs = server.client(), server.client("sqs")
        assert lam.get_event_source_mapping(UUID=esm["UUID"])["State"] == "Enabled"
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
        sqs.send_message(QueueUrl=url, MessageBody="after restart")
        records = wait_for(lambda: _records(collector))
        assert records[0]["body"] == "after restart"
        server.stop()
