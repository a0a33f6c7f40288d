"""Subscription filters to a Lambda function: the awslogs event (spec/events.md §10), delivered as
logs.amazonaws.com once the function's policy allows it."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.logs.conftest import now_ms, wait_for
from tests.server import LaminaProcess

RECEIVER = """
import base64, gzip, json
def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    print("RECEIVED " + json.dumps(data))
"""


def _received(logs: Any, group: str) -> list[dict[str, Any]]:
    try:
        events = logs.filter_log_events(logGroupName=group, filterPattern="RECEIVED")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [json.loads(e["message"].split("RECEIVED ", 1)[1]) for e in events]


def test_subscription_delivers_matching_events(
    lamina: LaminaProcess,
    logs: Any,
    lambda_client: Any,
    create_function: Callable[..., Any],
    make_group: Callable[..., str],
) -> None:
    receiver = f"recv-{uuid.uuid4().hex[:10]}"
    arn = create_function(receiver, Code={"ZipFile": make_zip({"app.py": RECEIVER})})["FunctionArn"]
    group = make_group()
    group_arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    with pytest.raises(ClientError) as refused:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=arn)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "permission" in refused.value.response["Error"]["Message"]
    lambda_client.add_permission(
        FunctionName=receiver,
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=group_arn,
    )
    logs.put_subscription_filter(
        logGroupName=group, filterName="errors", filterPattern="[level = ERROR, ...]", destinationArn=arn
    )
    (shown,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert shown["filterName"] == "errors" and shown["destinationArn"] == arn
    assert shown["distribution"] == "ByLogStream" and shown["logGroupName"] == group
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": t, "message": "INFO fine"}, {"timestamp": t + 1, "message": "ERROR broken disk"}],
    )
    (document,) = wait_for(lambda: _received(logs, f"/aws/lambda/{receiver}"))
    assert document["messageType"] == "DATA_MESSAGE" and document["owner"] == "000000000000"
    assert document["logGroup"] == group and document["logStream"] == "s"
    assert document["subscriptionFilters"] == ["errors"]
    (event,) = document["logEvents"]
    assert event["message"] == "ERROR broken disk" and event["timestamp"] == t + 1 and event["id"].isdigit()
    assert event["extractedFields"] == {"level": "ERROR"}
    with urllib.request.urlopen(f"{lamina.url}/health") as answer:
        assert json.loads(answer.read())["logs"]["subscriptionDeliveries"] >= 1
    logs.delete_subscription_filter(logGroupName=group, filterName="errors")
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_subscription_filter(logGroupName=group, filterName="errors")


def test_awslogs_payload_round_trip() -> None:
    from lamina.services.logs.subscriptions import awslogs_event

    payload = json.loads(awslogs_event({"messageType": "DATA_MESSAGE", "logEvents": []}))
    assert json.loads(gzip.decompress(base64.b64decode(payload["awslogs"]["data"]))) == {
        "messageType": "DATA_MESSAGE",
        "logEvents": [],
    }


def test_function_output_reaches_a_subscribed_function(
    logs: Any, lambda_client: Any, create_function: Callable[..., Any]
) -> None:
    receiver = f"recv-{uuid.uuid4().hex[:10]}"
    producer = f"prod-{uuid.uuid4().hex[:10]}"
    arn = create_function(receiver, Code={"ZipFile": make_zip({"app.py": RECEIVER})})["FunctionArn"]
    code = "def handler(event, context):\n    print('payment failed: card declined')\n"
    create_function(producer, Code={"ZipFile": make_zip({"app.py": code})})
    group = f"/aws/lambda/{producer}"
    logs.create_log_group(logGroupName=group)  # as a deployment tool creates it, before the first invoke
    lambda_client.add_permission(
        FunctionName=receiver, StatementId="logs", Action="lambda:InvokeFunction", Principal="logs.amazonaws.com"
    )
    logs.put_subscription_filter(
        logGroupName=group, filterName="f", filterPattern='"payment failed"', destinationArn=arn
    )
    lambda_client.invoke(FunctionName=producer)
    (document,) = wait_for(lambda: _received(logs, f"/aws/lambda/{receiver}"))
    assert document["logGroup"] == group and "[$LATEST]" in document["logStream"]
    assert [e["message"] for e in document["logEvents"]] == ["payment failed: card declined"]
    logs.delete_log_group(logGroupName=group)
