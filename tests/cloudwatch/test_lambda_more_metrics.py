"""AWS/Lambda metrics from where the events happen: async queue (AsyncEventAge, DeadLetterErrors,
DestinationDeliveryFailures), stream mappings (IteratorAge) and provisioned concurrency, read through boto3."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cloudwatch.conftest import wait_for
from tests.conftest import make_zip
from tests.server import LaminaProcess

FAIL = """
def handler(event, context):
    raise ValueError("asked to fail")
"""

SLEEP = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {}
"""


def _stat(
    cloudwatch: Any, name: str, dims: list[dict[str, str]], stat: str = "Sum", unit: str | None = None
) -> float | None:
    now = datetime.now(UTC)
    got = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=name, Dimensions=dims,
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=660, Statistics=[stat],
        **({"Unit": unit} if unit else {}),
    )["Datapoints"]  # fmt: skip
    return float(got[0][stat]) if got else None


def _gone_queue_arn(lamina: LaminaProcess) -> str:
    """The ARN of a queue that existed and was deleted: deliveries to it fail."""
    sqs = lamina.client("sqs")
    url = sqs.create_queue(QueueName=f"gone-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    sqs.delete_queue(QueueUrl=url)
    return arn


def test_dead_letter_errors_and_destination_delivery_failures(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
) -> None:
    gone = _gone_queue_arn(lamina)
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": FAIL})}, DeadLetterConfig={"TargetArn": gone})
    lambda_client.put_function_event_invoke_config(
        FunctionName=fn_name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": gone}}
    )
    for _ in range(2):
        lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b"{}")
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    wait_for(lambda: _stat(cloudwatch, "AsyncEventsDropped", dims) == 2)
    assert _stat(cloudwatch, "DeadLetterErrors", dims) == 2
    assert _stat(cloudwatch, "DestinationDeliveryFailures", dims) == 2
    assert _stat(cloudwatch, "DeadLetterErrors", []) is not None  # and account-wide
    # each event was attempted once (no retries): one AsyncEventAge datapoint per attempt
    assert _stat(cloudwatch, "AsyncEventAge", dims, "SampleCount") == 2
    age = _stat(cloudwatch, "AsyncEventAge", dims, "Maximum", "Milliseconds")
    assert age is not None and 0 <= age < 60_000


def test_async_event_age_counts_the_wait_before_each_attempt(
    cloudwatch: Any, lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLEEP})})
    lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=1)
    started = time.time()
    for _ in range(3):  # one at a time: the third waits for the two before it (about 1.6 s)
        lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b'{"sleep": 0.8}')
    dims = [{"Name": "FunctionName", "Value": fn_name}]
    wait_for(lambda: _stat(cloudwatch, "Invocations", dims) == 3, timeout=30)
    elapsed_ms = (time.time() - started) * 1000
    assert _stat(cloudwatch, "AsyncEventsReceived", dims) == 3
    samples = _stat(cloudwatch, "AsyncEventAge", dims, "SampleCount")
    assert samples is not None and samples >= 3  # throttled attempts are retried, each one measured
    oldest = _stat(cloudwatch, "AsyncEventAge", dims, "Maximum")
    assert oldest is not None and 1500 <= oldest <= elapsed_ms


def test_iterator_age_of_a_kinesis_mapping(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
) -> None:
    kinesis = lamina.client("kinesis")
    stream = f"age-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLEEP})})
    put = time.time()
    kinesis.put_records(StreamName=stream, Records=[{"Data": b"{}", "PartitionKey": str(i)} for i in range(3)])
    time.sleep(2.0)  # the records wait in the stream before the mapping exists
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=fn_name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )["UUID"]
    try:
        dims = [{"Name": "FunctionName", "Value": fn_name}]
        wait_for(lambda: _stat(cloudwatch, "Invocations", dims) == 1, timeout=30)
        age = _stat(cloudwatch, "IteratorAge", dims, "Maximum", "Milliseconds")
        assert age is not None and 2000 <= age <= (time.time() - put) * 1000
        assert _stat(cloudwatch, "IteratorAge", dims, "SampleCount") == 1  # one batch, one invoke
    finally:
        lambda_client.delete_event_source_mapping(UUID=mapping)
        kinesis.delete_stream(StreamName=stream)


def test_iterator_age_of_a_dynamodb_streams_mapping(
    lamina: LaminaProcess,
    cloudwatch: Any,
    lambda_client: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
) -> None:
    dynamodb = lamina.client("dynamodb")
    table = f"age-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )  # fmt: skip
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLEEP})})
    put = time.time()
    for key in ("a", "b"):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
    time.sleep(1.5)  # the changes wait in the stream before the mapping exists
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=fn_name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )["UUID"]
    try:
        dims = [{"Name": "FunctionName", "Value": fn_name}]
        wait_for(lambda: _stat(cloudwatch, "Invocations", dims) == 1, timeout=30)
        age = _stat(cloudwatch, "IteratorAge", dims, "Maximum")
        assert age is not None and 1500 <= age <= (time.time() - put) * 1000
        assert _stat(cloudwatch, "IteratorAge", dims, "SampleCount") == 1
    finally:
        lambda_client.delete_event_source_mapping(UUID=mapping)
        dynamodb.delete_table(TableName=table)


def test_provisioned_concurrency_metrics(
    cloudwatch: Any, lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLEEP})})
    version = lambda_client.publish_version(FunctionName=fn_name)["Version"]
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=fn_name, Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    wait_for(
        lambda: (
            lambda_client.get_provisioned_concurrency_config(FunctionName=fn_name, Qualifier=version)["Status"]
            == "READY"
        ),
        timeout=60,
    )
    for _ in range(3):  # one after another: each on the provisioned environment
        lambda_client.invoke(FunctionName=fn_name, Qualifier=version, Payload=b"{}")
    # two at once: one holds the provisioned environment for 1.5 s, the other spills over to on-demand
    slow = threading.Thread(
        target=lambda: lambda_client.invoke(FunctionName=fn_name, Qualifier=version, Payload=b'{"sleep": 1.5}')
    )
    slow.start()
    time.sleep(0.5)
    lambda_client.invoke(FunctionName=fn_name, Qualifier=version, Payload=b"{}")
    slow.join()
    resource = [{"Name": "FunctionName", "Value": fn_name}, {"Name": "Resource", "Value": f"{fn_name}:{version}"}]
    wait_for(lambda: _stat(cloudwatch, "Invocations", resource) == 5)
    assert _stat(cloudwatch, "ProvisionedConcurrencyInvocations", resource) == 4
    assert _stat(cloudwatch, "ProvisionedConcurrencySpilloverInvocations", resource) == 1
    assert _stat(cloudwatch, "ProvisionedConcurrentExecutions", resource, "Maximum") == 1
    assert _stat(cloudwatch, "ProvisionedConcurrencyUtilization", resource, "Maximum", "Count") == 1.0
    by_function = [{"Name": "FunctionName", "Value": fn_name}]
    assert _stat(cloudwatch, "ProvisionedConcurrencyInvocations", by_function) == 4
