"""Recursive loop detection through S3 (AWS counts S3 → Lambda → S3 chains as it counts SQS and SNS ones): a
function that writes the next object into the bucket whose uploads trigger it is stopped after 16 invocations;
with RecursiveLoop Allow it goes on. The trace header travels with the PutObject and its notification."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.recursion.test_loops import tally_settles
from tests.server import LaminaProcess

S3_LOOP = """
import os, boto3

s3 = boto3.client("s3")
sqs = boto3.client("sqs")

def handler(event, context):
    for record in event["Records"]:
        hop = int(record["s3"]["object"]["key"].split("/")[1]) + 1
        sqs.send_message(QueueUrl=os.environ["TALLY"], MessageBody=str(hop))
        if hop < int(os.environ.get("LIMIT", "1000")):
            s3.put_object(Bucket=record["s3"]["bucket"]["name"], Key=f"loop/{hop}", Body=b"again")
"""


@pytest.fixture(scope="module")
def s3(lamina: LaminaProcess) -> Any:
    return lamina.client("s3")


def _s3_loop(
    s3: Any, lambda_client: Any, make_queue: Any, make_function: Callable[..., str], allow: bool, limit: int | None
) -> tuple[str, str]:
    tally_url, _ = make_queue()
    env = {"TALLY": tally_url, **({"LIMIT": str(limit)} if limit else {})}
    fn = make_function(S3_LOOP, env)
    if allow:
        lambda_client.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    bucket = f"loop-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    lambda_client.add_permission(
        FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )  # fmt: skip
    arn = lambda_client.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket=bucket, Key="loop/0", Body=b"start")
    return bucket, tally_url


def _empty(s3: Any, bucket: str) -> None:
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_s3_loop_is_stopped_after_16_invocations(
    lamina: LaminaProcess, s3: Any, sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any
) -> None:
    bucket, tally_url = _s3_loop(s3, lambda_client, make_queue, make_function, allow=False, limit=None)
    try:
        assert tally_settles(sqs, tally_url, 16) == list(range(1, 17))
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        assert keys == {f"loop/{n}" for n in range(17)}  # the 16th wrote loop/16; its notification was stopped
        assert any("recursive loop detection" in line for line in lamina.output)
    finally:
        _empty(s3, bucket)


def test_s3_loop_allowed_goes_past_16(
    s3: Any, sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any
) -> None:
    bucket, tally_url = _s3_loop(s3, lambda_client, make_queue, make_function, allow=True, limit=20)
    try:
        assert tally_settles(sqs, tally_url, 20) == list(range(1, 21))
    finally:
        _empty(s3, bucket)
