"""A DynamoDB table with a stream → function: INSERT/MODIFY/REMOVE records in commit order, with the
recorded shape; a failing function's batch goes to an SNS topic's subscribed queue as DDBStreamBatchInfo."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from tests.esm.conftest import wait_for
from tests.server import LaminaProcess
from tests.stream_esm.conftest import REPORT, Counter

RECORDING = (
    REPORT
    + """
def handler(event, context):
    report({"records": event["Records"]})
"""
)


def _table(dynamodb: Any) -> tuple[str, str]:
    name = f"esm-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name, dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def test_table_changes_reach_the_function_in_order(
    lamina: LaminaProcess, lambda_client: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    dynamodb = lamina.client("dynamodb")
    name, arn = _table(dynamodb)
    try:
        fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
        created = lambda_client.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=2
        )
        mappings.append(created["UUID"])
        assert created["StartingPosition"] == "TRIM_HORIZON"
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
        )
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
        wait_for(lambda: sum(len(p["records"]) for p in counter.snapshot()) >= 3, timeout=30)
        records = [r for p in counter.snapshot() for r in p["records"]]
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        assert all(r["eventSourceARN"] == arn and r["eventSource"] == "aws:dynamodb" for r in records)
        assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
        assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
        assert max(len(p["records"]) for p in counter.snapshot()) <= 2
    finally:
        dynamodb.delete_table(TableName=name)


def test_failed_batch_goes_to_the_sns_topic(
    lamina: LaminaProcess, lambda_client: Any, make_function: Callable[..., str], mappings: list[str]
) -> None:
    dynamodb, sns, sqs = lamina.client("dynamodb"), lamina.client("sns"), lamina.client("sqs")
    name, arn = _table(dynamodb)
    try:
        topic = sns.create_topic(Name=f"fail-{name}")["TopicArn"]
        url = sqs.create_queue(QueueName=f"fail-{name}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        fn = make_function("def handler(event, context):\n    raise RuntimeError('no')\n")
        created = lambda_client.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": topic}},
        )  # fmt: skip
        mappings.append(created["UUID"])
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "x"}})
        messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=30)
        body = json.loads(messages[0]["Body"])
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert body["requestContext"]["approximateInvokeCount"] == 2  # the first attempt and one retry
        info = body["DDBStreamBatchInfo"]
        assert info["batchSize"] == 1 and info["streamArn"] == arn
    finally:
        dynamodb.delete_table(TableName=name)
