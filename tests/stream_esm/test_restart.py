"""Checkpoints are durable: after kill -9 a mapping resumes after its last finished batch, reprocessing
nothing before it and losing nothing after it."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from tests.conftest import make_zip
from tests.esm.conftest import wait_for
from tests.server import ROLE, LaminaProcess
from tests.stream_esm.conftest import REPORT, Counter

RECORDING = (
    REPORT
    + """
def handler(event, context):
    report({"records": event["Records"]})
"""
)


def _seen(counter: Counter) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for p in counter.snapshot() for r in p["records"]]


def test_restart_resumes_after_the_checkpoint(fresh_lamina: Callable[..., LaminaProcess], counter: Counter) -> None:
    server = fresh_lamina()
    kinesis, lam = server.client("kinesis"), server.client("lambda")
    kinesis.create_stream(StreamName="resume", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="resume")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_function(
        FunctionName="resume", Runtime="python3.12", Role=ROLE, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": RECORDING})}, Environment={"Variables": {"COLLECTOR": counter.url}},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="resume", WaiterConfig={"Delay": 0.1})
    lam.create_event_source_mapping(FunctionName="resume", EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    kinesis.put_records(
        StreamName="resume", Records=[{"Data": f"a{i}".encode(), "PartitionKey": "k"} for i in range(10)]
    )
    wait_for(lambda: len(_seen(counter)) >= 10, timeout=30)
    time.sleep(1.5)  # the batch's checkpoint commits right after the invocation returns
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    kinesis = again.client("kinesis")
    kinesis.put_records(
        StreamName="resume", Records=[{"Data": f"b{i}".encode(), "PartitionKey": "k"} for i in range(5)]
    )
    wait_for(lambda: len(_seen(counter)) >= 15, timeout=30)
    time.sleep(2)  # anything reprocessed would show up by now
    assert _seen(counter) == [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(5)]
