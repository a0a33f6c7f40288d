"""Async outcomes delivered to SQS, as on AWS (spec invoke-and-runtime.md §3): OnSuccess / OnFailure destination
records with AWS's shape, and the legacy dead-letter queue with RequestID / ErrorCode / ErrorMessage attributes.
Shapes and the DLQ body digest are compared with the responses recorded from AWS."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conformance.snapshot import RECORDED
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

HANDLER = """
def handler(event, context):
    if event.get("raise_error"):
        raise Exception("Test exception (this is intentional)")
    return {"ok": True, "event": event}
"""


FAILURE_ENTRY = (
    "tests/aws/services/lambda_/test_lambda_destinations.py::TestLambdaDestinationSqs::"
    "test_assess_lambda_destination_invocation[payload1]"
)


def _recorded_failure_record() -> dict[str, Any]:
    snapshot = json.loads((RECORDED / "services__lambda___test_lambda_destinations.snapshot.json").read_text())
    body: dict[str, Any] = snapshot[FAILURE_ENTRY]["recorded-content"]["receive_message_result"]["Messages"][0]["Body"]
    return body


def _shape(value: Any) -> Any:
    """Keys and types, not values: what must match a recorded record whose ids and times are placeholders."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def _receive(sqs: Any, url: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"])
        if got.get("Messages"):
            message: dict[str, Any] = got["Messages"][0]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return message
    raise AssertionError("no message arrived")


@pytest.fixture
def queue(lamina: LaminaProcess, fn_name: str) -> Any:
    sqs = lamina.client("sqs")
    url = sqs.create_queue(QueueName=f"{fn_name}-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield sqs, url, arn
    sqs.delete_queue(QueueUrl=url)


def _function(lambda_client: Any, name: str, **extra: Any) -> None:
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": HANDLER})}, **extra,
    )  # fmt: skip
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})


@pytest.mark.slow
def test_destination_records_reach_sqs(lambda_client: Any, fn_name: str, queue: Any) -> None:
    sqs, url, arn = queue
    _function(lambda_client, fn_name)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=fn_name, MaximumRetryAttempts=0,
            DestinationConfig={"OnSuccess": {"Destination": arn}, "OnFailure": {"Destination": arn}},
        )  # fmt: skip
        lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b"{}")
        success = json.loads(_receive(sqs, url)["Body"])
        assert set(success) == {"version", "timestamp", "requestContext", "requestPayload", "responseContext",
                                "responsePayload"}  # fmt: skip
        assert success["version"] == "1.0"
        assert success["requestContext"]["condition"] == "Success"
        assert success["requestContext"]["approximateInvokeCount"] == 1
        assert success["requestContext"]["functionArn"].endswith(f":function:{fn_name}:$LATEST")
        assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
        assert success["responsePayload"] == {"ok": True, "event": {}}

        lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=json.dumps({"raise_error": 1}))
        failure = json.loads(_receive(sqs, url)["Body"])
        recorded = _recorded_failure_record()
        assert _shape(failure) == _shape(recorded)  # the record AWS delivered for the same failing handler
        assert list(failure) == list(recorded)  # and in the same key order
        assert failure["responsePayload"]["stackTrace"][0].endswith(
            'in handler\n    raise Exception("Test exception (this is intentional)")\n'
        )
        assert failure["requestContext"]["condition"] == "RetriesExhausted"
        assert failure["requestContext"]["approximateInvokeCount"] == 1
        assert failure["requestPayload"] == {"raise_error": 1}
        assert failure["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        assert failure["responsePayload"]["errorMessage"] == "Test exception (this is intentional)"
        assert failure["responsePayload"]["errorType"] == "Exception"
        assert failure["responsePayload"]["requestId"] == failure["requestContext"]["requestId"]
    finally:
        lambda_client.delete_function(FunctionName=fn_name)


@pytest.mark.slow
def test_dead_letter_queue_gets_the_event_and_its_attributes(lambda_client: Any, fn_name: str, queue: Any) -> None:
    sqs, url, arn = queue
    _function(lambda_client, fn_name, DeadLetterConfig={"TargetArn": arn})
    try:
        lambda_client.put_function_event_invoke_config(FunctionName=fn_name, MaximumRetryAttempts=0)
        response = lambda_client.invoke(FunctionName=fn_name, InvocationType="Event",
                                        Payload=json.dumps({"raise_error": 1}))  # fmt: skip
        request_id = response["ResponseMetadata"]["RequestId"]
        message = _receive(sqs, url)
        assert json.loads(message["Body"]) == {"raise_error": 1}
        assert message["MD5OfBody"] == "ba08269cbd0ce515889bfba6593731e1"  # as recorded from AWS
        assert message["MessageAttributes"] == {
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "Test exception (this is intentional)"},
            "RequestID": {"DataType": "String", "StringValue": request_id},
        }
    finally:
        lambda_client.delete_function(FunctionName=fn_name)
