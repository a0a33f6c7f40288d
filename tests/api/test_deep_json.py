"""JSON nested thousands of levels deep, where clients control it (issue 12 item 16).

Python's json module recurses per level, so such documents used to answer 500 (RecursionError). Lambda
only checks that an Invoke payload is valid JSON: a deep payload reaches the function byte for byte. Policy
documents are parsed by the service and get its own 400 in its own protocol (SNS in XML).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.lambda_api.invoke_support import Deployer
from tests.server import LaminaProcess

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000

# A custom runtime that answers each event with its raw bytes, so the test sees what the function got.
ECHO_BOOTSTRAP = """
#!/usr/bin/env python3
import os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as event:
        rid, data = event.headers["Lambda-Runtime-Aws-Request-Id"], event.read()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=data, method="POST")).read()
"""


@pytest.fixture(scope="module")
def echo(lamina: LaminaProcess) -> Any:
    client = lamina.client(read_timeout=120)
    deployer = Deployer(client)
    name = deployer.create({"bootstrap": ECHO_BOOTSTRAP}, runtime="provided.al2023", handler="echo")
    yield client, name
    deployer.delete_all()


@pytest.mark.parametrize("payload", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deep_invoke_payload_reaches_the_function_unchanged(echo: Any, payload: str) -> None:
    client, name = echo
    response = client.invoke(FunctionName=name, Payload=payload.encode())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["Payload"].read() == payload.encode()


def test_deep_invoke_payload_that_is_not_json_is_a_400(echo: Any) -> None:
    client, name = echo
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName=name, Payload=("[" * 5000 + "]" * 4999).encode())
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidRequestContentException"


def test_deep_async_invoke_is_accepted(echo: Any) -> None:
    client, name = echo
    response = client.invoke(FunctionName=name, Payload=DEEP_ARRAY.encode(), InvocationType="Event")
    assert response["StatusCode"] == 202


def test_deep_client_context_is_accepted(echo: Any) -> None:
    client, name = echo
    context = base64.b64encode(DEEP_OBJECT.encode()).decode()
    response = client.invoke(FunctionName=name, Payload=b"{}", ClientContext=context)
    assert response["StatusCode"] == 200
    assert response["Payload"].read() == b"{}"


@pytest.fixture
def topic(lamina: LaminaProcess) -> Any:
    sns = lamina.client("sns")
    arn = sns.create_topic(Name=f"deep-{uuid.uuid4().hex[:12]}")["TopicArn"]
    yield sns, arn
    sns.delete_topic(TopicArn=arn)


def _sns_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"].startswith("text/xml")
    error: dict[str, Any] = response["Error"]
    return error


def test_deep_sns_message_structure_is_invalid_parameter(topic: Any) -> None:
    sns, arn = topic
    error = _sns_error(sns.publish, TopicArn=arn, Message=DEEP_OBJECT, MessageStructure="json")
    assert error["Code"] == "InvalidParameter"
    assert error["Message"] == "Invalid parameter: Message Structure - JSON message body failed to parse"


def test_deep_sns_filter_policy_is_invalid_parameter(topic: Any, lamina: LaminaProcess) -> None:
    sns, arn = topic
    sqs = lamina.client("sqs")
    url = sqs.create_queue(QueueName=f"deep-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
        error = _sns_error(
            sns.set_subscription_attributes,
            SubscriptionArn=sub["SubscriptionArn"],
            AttributeName="FilterPolicy",
            AttributeValue=DEEP_OBJECT,
        )
        assert error["Code"] == "InvalidParameter"
        assert error["Message"] == "Invalid parameter: FilterPolicy: failed to parse JSON."
        error = _sns_error(
            sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": DEEP_ARRAY}
        )
        assert error["Code"] == "InvalidParameter"
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_deep_sqs_redrive_policy_is_invalid_attribute(lamina: LaminaProcess) -> None:
    sqs = lamina.client("sqs")
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName=f"deep-{uuid.uuid4().hex[:12]}", Attributes={"RedrivePolicy": DEEP_OBJECT})
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] in ("InvalidAttributeValue", "AWS.SimpleQueueService.InvalidAttributeValue")
    reason = "Reason: Redrive policy is not a valid JSON map."
    assert error["Error"]["Message"] == f"Invalid value for the parameter RedrivePolicy. {reason}"


@pytest.fixture(scope="module")
def python_depth(lamina: LaminaProcess) -> Any:
    """A Python function that answers how deep its event is (or echoes a small one)."""
    client = lamina.client(read_timeout=120)
    deployer = Deployer(client)
    code = (
        "def handler(event, context):\n"
        "    depth = 0\n"
        "    while isinstance(event, (list, dict)) and event:\n"
        "        event = event[0] if isinstance(event, list) else event['a']\n"
        "        depth += 1\n"
        "    return {'depth': depth}\n"
    )
    name = deployer.create({"app.py": code}, runtime="python3.12")
    yield client, name
    deployer.delete_all()


@pytest.mark.parametrize(
    "payload", ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000], ids=["array", "object"]
)
def test_10000_levels_to_a_python_function_is_a_clean_unmarshal_error(python_depth: Any, payload: str) -> None:
    """AWS's Python runtime (awslambdaric) turns any failure of json.loads, RecursionError included, into
    Runtime.UnmarshalError; the environment keeps serving."""
    client, name = python_depth
    response = client.invoke(FunctionName=name, Payload=payload.encode())
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Runtime.UnmarshalError"
    assert error["errorMessage"].startswith("Unable to unmarshal input: maximum recursion depth exceeded"), error
    shallow = client.invoke(FunctionName=name, Payload=b"[[[1]]]")
    assert json.loads(shallow["Payload"].read()) == {"depth": 3}


def test_500_levels_reach_a_python_function(python_depth: Any) -> None:
    client, name = python_depth
    response = client.invoke(FunctionName=name, Payload=("[" * 500 + "]" * 500).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"depth": 499}


def test_deep_client_context_with_newlines_is_accepted(echo: Any) -> None:
    # A context with newlines is re-serialized onto one header line: parsing it must not fail on its depth.
    client, name = echo
    context = base64.b64encode(("{\n" + DEEP_OBJECT[1:]).encode()).decode()
    response = client.invoke(FunctionName=name, Payload=b"{}", ClientContext=context)
    assert response["StatusCode"] == 200
    assert response["Payload"].read() == b"{}"
