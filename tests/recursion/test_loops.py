"""Recursive loop detection end to end (issue 12 item 12): real functions that send their event back to where
it came from, through boto3 inside the function (which sends its trace id as X-Amzn-Trace-Id), a real
`lamina serve`, SQS event source mappings and SNS subscriptions. Every invocation also sends one message to a
tally queue, so the number of invocations is counted exactly."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.esm.conftest import wait_for
from tests.server import LaminaProcess

# Echoes each SQS record back to its own queue (or, with LIMIT, stops after that many hops).
SQS_LOOP = """
import json, os, boto3

sqs = boto3.client("sqs")

def handler(event, context):
    for record in event["Records"]:
        hop = int(record["body"]) + 1
        sqs.send_message(QueueUrl=os.environ["TALLY"], MessageBody=str(hop))
        if hop < int(os.environ.get("LIMIT", "1000")):
            sqs.send_message(QueueUrl=os.environ["QUEUE"], MessageBody=str(hop))
"""

# Publishes each SNS notification back to its own topic.
SNS_LOOP = """
import os, boto3

sqs = boto3.client("sqs")
sns = boto3.client("sns")

def handler(event, context):
    for record in event["Records"]:
        hop = int(record["Sns"]["Message"]) + 1
        sqs.send_message(QueueUrl=os.environ["TALLY"], MessageBody=str(hop))
        if hop < int(os.environ.get("LIMIT", "1000")):
            sns.publish(TopicArn=record["Sns"]["TopicArn"], Message=str(hop))
"""


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )


def tally_settles(sqs: Any, url: str, expected: int) -> list[int]:
    """Hops seen in the tally queue, once `expected` of them arrived and nothing more came for 3 seconds (a loop
    that was not stopped keeps adding hops)."""
    hops: list[int] = []

    def more() -> int:
        got = [int(m["Body"]) for m in drain(sqs, url)]
        hops.extend(got)
        return len(got)

    wait_for(lambda: more() >= 0 and len(hops) >= expected, timeout=60)
    quiet = 0
    while quiet < 3:
        time.sleep(1.0)
        quiet = 0 if more() else quiet + 1
    return sorted(hops)


def sqs_loop(
    sqs: Any, lambda_client: Any, make_queue: Callable[..., tuple[str, str]], make_function: Callable[..., str],
    mappings: list[str], limit: int | None = None, allow: bool = False, dead_letter: bool = True,
    configure: Callable[[str], None] | None = None,
) -> tuple[str, str, str, str]:  # fmt: skip
    tally_url, _ = make_queue()
    dlq_url, dlq_arn = make_queue()
    attributes = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})}
    url, arn = make_queue(**(attributes if dead_letter else {}))
    env = {"TALLY": tally_url, "QUEUE": url, **({"LIMIT": str(limit)} if limit else {})}
    fn = make_function(SQS_LOOP, env)
    if allow:
        lambda_client.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    if configure is not None:
        configure(fn)
    esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
    mappings.append(esm["UUID"])
    sqs.send_message(QueueUrl=url, MessageBody="0")
    return fn, url, tally_url, dlq_url


def test_sqs_loop_is_stopped_after_16_invocations(
    lamina: LaminaProcess, sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    fn, url, tally_url, dlq_url = sqs_loop(sqs, lambda_client, make_queue, make_function, mappings)
    [stopped] = wait_for(lambda: drain(sqs, dlq_url), timeout=60)
    assert stopped["Body"] == "16"  # the message the 16th invocation sent: the 17th was not run
    assert "Lineage=" in stopped["Attributes"]["AWSTraceHeader"]
    assert tally_settles(sqs, tally_url, 16) == list(range(1, 17))
    assert drain(sqs, url) == []
    assert lambda_client.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Terminate"
    assert any("recursive loop detection" in line and fn in line for line in lamina.output)
    with urllib.request.urlopen(f"{lamina.url}/health") as response:
        assert json.load(response)["recursiveInvocationsDropped"] >= 1


def test_sqs_loop_without_dead_letter_queue_drops_the_message(
    lamina: LaminaProcess, sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    fn, url, tally_url, _ = sqs_loop(sqs, lambda_client, make_queue, make_function, mappings, dead_letter=False)
    assert tally_settles(sqs, tally_url, 16) == list(range(1, 17))
    wait_for(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
             ["ApproximateNumberOfMessagesNotVisible"] == "0")  # fmt: skip
    assert drain(sqs, url) == []
    assert any("deleted (the queue has no dead-letter queue)" in line and fn in line for line in lamina.output)


def test_sqs_loop_allowed_goes_past_16(
    sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    _, _, tally_url, dlq_url = sqs_loop(sqs, lambda_client, make_queue, make_function, mappings, limit=24, allow=True)
    assert tally_settles(sqs, tally_url, 24) == list(range(1, 25))
    assert drain(sqs, dlq_url) == []


def sns_loop(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Callable[[], str], make_queue: Any, make_function: Any,
    limit: int | None = None, allow: bool = False,
) -> tuple[str, str, str]:  # fmt: skip
    tally_url, _ = make_queue()
    dlq_url, dlq_arn = make_queue()
    topic = make_topic()
    env = {"TALLY": tally_url, **({"LIMIT": str(limit)} if limit else {})}
    fn = make_function(SNS_LOOP, env, DeadLetterConfig={"TargetArn": dlq_arn})
    if allow:
        lambda_client.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    fn_arn = lambda_client.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    lambda_client.add_permission(
        FunctionName=fn, StatementId="sns", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
        SourceArn=topic,
    )  # fmt: skip
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)
    sns.publish(TopicArn=topic, Message="0")
    return fn, tally_url, dlq_url


def test_sns_loop_is_stopped_after_16_invocations(
    lamina: LaminaProcess, sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any,
    make_function: Any,
) -> None:  # fmt: skip
    fn, tally_url, dlq_url = sns_loop(sns, sqs, lambda_client, make_topic, make_queue, make_function)
    [stopped] = wait_for(lambda: drain(sqs, dlq_url), timeout=60)
    event = json.loads(stopped["Body"])  # the function's dead-letter queue gets the event as it was
    assert event["Records"][0]["Sns"]["Message"] == "16"
    attributes = {k: v["StringValue"] for k, v in stopped["MessageAttributes"].items()}
    assert attributes["ErrorCode"] == "400"
    assert "recursive loop" in attributes["ErrorMessage"]
    assert tally_settles(sqs, tally_url, 16) == list(range(1, 17))
    assert any("recursive loop detection" in line and fn in line for line in lamina.output)


def test_sns_loop_allowed_goes_past_16(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any, make_function: Any
) -> None:
    _, tally_url, dlq_url = sns_loop(
        sns, sqs, lambda_client, make_topic, make_queue, make_function, limit=20, allow=True
    )
    assert tally_settles(sqs, tally_url, 20) == list(range(1, 21))
    assert drain(sqs, dlq_url) == []


def test_chain_through_sns_and_sqs_is_counted(
    sns: Any, sqs: Any, lambda_client: Any, make_topic: Any, make_queue: Any, make_function: Any,
    mappings: list[str],
) -> None:  # fmt: skip
    """SQS → function → SNS → SQS subscription → the same function: SNS passes the chain on to SQS."""
    tally_url, _ = make_queue()
    dlq_url, dlq_arn = make_queue()
    url, arn = make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}))
    topic = make_topic()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    code = SQS_LOOP.replace(
        'sqs.send_message(QueueUrl=os.environ["QUEUE"], MessageBody=str(hop))',
        'boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Message=str(hop))',
    )
    fn = make_function(code, {"TALLY": tally_url, "TOPIC": topic})
    esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
    mappings.append(esm["UUID"])
    sqs.send_message(QueueUrl=url, MessageBody="0")
    [stopped] = wait_for(lambda: drain(sqs, dlq_url), timeout=60)
    assert stopped["Body"] == "16"
    assert tally_settles(sqs, tally_url, 16) == list(range(1, 17))
