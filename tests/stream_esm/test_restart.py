"""Checkpoints are durable: after kill -9 a mapping resumes after its last finished batch, reprocessing
nothing before it and losing nothing after it. So is LastProcessingResult: a restart shows the last one."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.aws_cli import json_runner
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


FAILS_ON_BAD = (
    REPORT
    + """
import base64
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    report({"records": event["Records"]})
    if "bad" in data:
        raise RuntimeError("bad record")
"""
)


def _results(server: LaminaProcess, uuid: str, tmp_path: Path) -> list[str]:
    """LastProcessingResult as GetEventSourceMapping, ListEventSourceMappings (boto3) and the aws CLI show it."""
    lam = server.client("lambda")
    cli = json_runner(tmp_path, server.url, "lambda")
    listed = lam.list_event_source_mappings(FunctionName="results")["EventSourceMappings"]
    return [
        lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
        *[m["LastProcessingResult"] for m in listed],
        cli("get-event-source-mapping", "--uuid", uuid)["LastProcessingResult"],
    ]


def _disable(lam: Any, uuid: str) -> None:
    """No poller runs on a disabled mapping: what it shows after a restart can only be what was stored."""
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled", timeout=10)


def test_last_processing_result_survives_restarts(
    fresh_lamina: Callable[..., LaminaProcess], counter: Counter, tmp_path: Path
) -> None:
    server = fresh_lamina()
    kinesis, lam = server.client("kinesis"), server.client("lambda")
    kinesis.create_stream(StreamName="results", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="results")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_function(
        FunctionName="results", Runtime="python3.12", Role=ROLE, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": FAILS_ON_BAD})}, Environment={"Variables": {"COLLECTOR": counter.url}},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="results", WaiterConfig={"Delay": 0.1})
    uuid = lam.create_event_source_mapping(
        FunctionName="results", EventSourceArn=arn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=0
    )["UUID"]
    kinesis.put_record(StreamName="results", Data=b"good", PartitionKey="k")
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", timeout=30)
    kinesis.put_record(StreamName="results", Data=b"bad", PartitionKey="k")
    wait_for(
        lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed",
        timeout=30,
    )
    _disable(lam, uuid)
    server.kill()  # kill -9 right after: what the API showed was already committed
    again = fresh_lamina(data_dir=server.data_dir)
    assert _results(again, uuid, tmp_path) == ["PROBLEM: Function call failed"] * 3
    # Enabled again, a good batch turns it back to OK; a clean stop and start show that.
    lam = again.client("lambda")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled", timeout=10)
    again.client("kinesis").put_record(StreamName="results", Data=b"good again", PartitionKey="k")
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", timeout=30)
    _disable(lam, uuid)
    again.stop()
    third = fresh_lamina(data_dir=server.data_dir)
    assert _results(third, uuid, tmp_path) == ["OK"] * 3
    assert len(counter.snapshot()) == 3  # good, bad, good again: nothing was invoked twice
