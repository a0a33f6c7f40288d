"""Alarms in virtual time: a real Lamina in-process on a ManualClock, driven through boto3 (in a thread) while the
test moves the clock: an alarm on Errors > 0 goes to ALARM and its notification reaches an SQS queue through an
SNS topic; back to OK when a minute passes without errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lamina.app import Lamina
from lamina.clock import ManualClock
from lamina.config import Settings
from tests.conftest import make_zip
from tests.server import ROLE

START = 1_800_000_000.0  # on a minute boundary
CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {}
"""

Client = Callable[[str], Any]


def run(tmp_path: Path, test: Callable[[Lamina, ManualClock, Client], Awaitable[None]]) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        app = Lamina(Settings(port=0, data_dir=tmp_path / "data", sqlite_synchronous="NORMAL"), clock=clock)
        await app.start()

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=f"http://127.0.0.1:{app.port}",
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"total_max_attempts": 1}),
            )

        try:
            await test(app, clock, client)
        finally:
            await app.stop()

    asyncio.run(asyncio.wait_for(main(), 120))


async def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, **kwargs)


async def advance(clock: ManualClock, seconds: float) -> None:
    """Moves virtual time in one-second steps, letting the tasks due run (flushes, evaluations)."""
    for _ in range(int(seconds)):
        clock.advance(1)
        for _ in range(5):
            await asyncio.sleep(0)


def test_errors_alarm_notifies_sns_then_recovers(tmp_path: Path) -> None:
    async def test(app: Lamina, clock: ManualClock, client: Client) -> None:
        lam, cw, sns, sqs = client("lambda"), client("cloudwatch"), client("sns"), client("sqs")
        await call(
            lam.create_function, FunctionName="flaky", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": CODE})},
        )  # fmt: skip
        topic = (await call(sns.create_topic, Name="alarms"))["TopicArn"]
        queue_url = (await call(sqs.create_queue, QueueName="alarm-inbox"))["QueueUrl"]
        queue_arn = (await call(sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        await call(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        await call(
            cw.put_metric_alarm,
            AlarmName="flaky-errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
            Dimensions=[{"Name": "FunctionName", "Value": "flaky"}], Period=60, EvaluationPeriods=1,
            Threshold=0.0, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
            AlarmActions=[topic], OKActions=[topic],
        )  # fmt: skip
        (alarm,) = (await call(cw.describe_alarms, AlarmNames=["flaky-errors"]))["MetricAlarms"]
        assert alarm["StateValue"] == "INSUFFICIENT_DATA"
        assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:flaky-errors"
        assert alarm["ActionsEnabled"] is True and alarm["DatapointsToAlarm"] == 1

        await call(lam.invoke, FunctionName="flaky", Payload=b"{}")
        await call(lam.invoke, FunctionName="flaky", Payload=b'{"fail": true}')
        await call(lam.invoke, FunctionName="flaky", Payload=b'{"fail": true}')
        await advance(clock, 61)  # the minute with the errors is complete; the evaluation runs
        (alarm,) = (await call(cw.describe_alarms, AlarmNames=["flaky-errors"]))["MetricAlarms"]
        assert alarm["StateValue"] == "ALARM"
        assert alarm["StateReason"] == (
            "Threshold Crossed: 1 datapoint [2.0 (15/01/27 08:00:00)] was greater than the threshold (0.0)."
        )
        assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [2.0]
        assert [a["AlarmName"] for a in (await call(cw.describe_alarms, StateValue="ALARM"))["MetricAlarms"]] == [
            "flaky-errors"
        ]

        got = await call(sqs.receive_message, QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        (message,) = got["Messages"]
        envelope = json.loads(message["Body"])
        assert envelope["Type"] == "Notification"
        assert envelope["Subject"] == 'ALARM: "flaky-errors" in US East (N. Virginia)'
        note = json.loads(envelope["Message"])
        assert note["AlarmName"] == "flaky-errors"
        assert (note["OldStateValue"], note["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
        assert note["AWSAccountId"] == "000000000000"
        assert note["Trigger"]["MetricName"] == "Errors" and note["Trigger"]["Statistic"] == "SUM"
        assert note["Trigger"]["Dimensions"] == [{"value": "flaky", "name": "FunctionName"}]
        assert note["Trigger"]["Threshold"] == 0.0
        await call(sqs.delete_message, QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

        await advance(clock, 60)  # a minute without errors (missing data is not breaching)
        (alarm,) = (await call(cw.describe_alarms, AlarmNames=["flaky-errors"]))["MetricAlarms"]
        assert alarm["StateValue"] == "OK"
        got = await call(sqs.receive_message, QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        (message,) = got["Messages"]
        assert json.loads(json.loads(message["Body"])["Message"])["NewStateValue"] == "OK"

        for_metric = await call(
            cw.describe_alarms_for_metric, MetricName="Errors", Namespace="AWS/Lambda",
            Dimensions=[{"Name": "FunctionName", "Value": "flaky"}],
        )  # fmt: skip
        assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == ["flaky-errors"]

    run(tmp_path, test)


def test_set_state_actions_and_delete(tmp_path: Path) -> None:
    async def test(app: Lamina, clock: ManualClock, client: Client) -> None:
        cw, sns, sqs = client("cloudwatch"), client("sns"), client("sqs")
        topic = (await call(sns.create_topic, Name="t"))["TopicArn"]
        queue_url = (await call(sqs.create_queue, QueueName="q"))["QueueUrl"]
        queue_arn = (await call(sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        await call(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        args = {
            "MetricName": "Queue", "Namespace": "App", "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2, "Threshold": 10.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [topic],
        }  # fmt: skip
        await call(cw.put_metric_alarm, AlarmName="a1", **args)
        await call(cw.disable_alarm_actions, AlarmNames=["a1"])
        await call(cw.set_alarm_state, AlarmName="a1", StateValue="ALARM", StateReason="testing")
        (alarm,) = (await call(cw.describe_alarms, AlarmNames=["a1"]))["MetricAlarms"]
        assert (alarm["StateValue"], alarm["StateReason"], alarm["ActionsEnabled"]) == ("ALARM", "testing", False)
        await asyncio.sleep(0.05)
        assert "Messages" not in await call(sqs.receive_message, QueueUrl=queue_url, WaitTimeSeconds=0)
        # 2 of 3 periods at or over 10 make ALARM; actions enabled again notify on the change.
        await call(cw.set_alarm_state, AlarmName="a1", StateValue="OK", StateReason="reset")
        await call(cw.enable_alarm_actions, AlarmNames=["a1"])
        base = START + 60
        data = [{"MetricName": "Queue", "Timestamp": base + 60 * i, "Value": v} for i, v in enumerate((12, 3, 10))]
        await call(cw.put_metric_data, Namespace="App", MetricData=data)
        await advance(clock, 60 * 4 + 1 - (clock.time() - START))
        (alarm,) = (await call(cw.describe_alarms, AlarmNames=["a1"]))["MetricAlarms"]
        assert alarm["StateValue"] == "ALARM"
        got = await call(sqs.receive_message, QueueUrl=queue_url, WaitTimeSeconds=0)
        assert json.loads(json.loads(got["Messages"][0]["Body"])["Message"])["NewStateValue"] == "ALARM"

        with pytest.raises(ClientError) as caught:
            await call(cw.put_metric_alarm, AlarmName="bad", **{**args, "Period": 90})
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        with pytest.raises(ClientError) as caught:
            await call(cw.put_metric_alarm, AlarmName="bad", **{**args, "DatapointsToAlarm": 4})
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        with pytest.raises(ClientError) as caught:
            await call(cw.set_alarm_state, AlarmName="a1", StateValue="OK", StateReason="x", StateReasonData="{")
        assert caught.value.response["Error"]["Code"] == "InvalidFormat"
        assert [a["AlarmName"] for a in (await call(cw.describe_alarms))["MetricAlarms"]] == ["a1"]
        await call(cw.delete_alarms, AlarmNames=["a1"])
        assert (await call(cw.describe_alarms))["MetricAlarms"] == []

    run(tmp_path, test)


def test_percentile_alarm(tmp_path: Path) -> None:
    async def test(app: Lamina, clock: ManualClock, client: Client) -> None:
        cw = client("cloudwatch")
        for name, stat in (("slow-p99", "p99"), ("slow-p50", "p50")):
            await call(
                cw.put_metric_alarm,
                AlarmName=name, MetricName="Latency", Namespace="Shop", ExtendedStatistic=stat, Period=60,
                EvaluationPeriods=1, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
            )  # fmt: skip
        with pytest.raises(ClientError) as caught:
            await call(
                cw.put_metric_alarm,
                AlarmName="bad", MetricName="Latency", Namespace="Shop", ExtendedStatistic="p101", Period=60,
                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
            )  # fmt: skip
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        values = [float(v) for v in range(1, 99)] + [400.0, 500.0]  # the 99th of 100 is 400: p99 400, p50 50
        await call(
            cw.put_metric_data,
            Namespace="Shop", MetricData=[{"MetricName": "Latency", "Values": values, "Unit": "Milliseconds"}],
        )  # fmt: skip
        await advance(clock, 61)
        alarms = (await call(cw.describe_alarms, AlarmNames=["slow-p99", "slow-p50"]))["MetricAlarms"]
        states = {a["AlarmName"]: (a["StateValue"], a.get("ExtendedStatistic"), a.get("Statistic")) for a in alarms}
        assert states == {"slow-p99": ("ALARM", "p99", None), "slow-p50": ("OK", "p50", None)}
        p99 = next(a for a in alarms if a["AlarmName"] == "slow-p99")
        # 100 distinct values: stored as a histogram, within 1% (as CloudWatch's own percentiles)
        assert json.loads(p99["StateReasonData"])["recentDatapoints"] == [pytest.approx(400.0, rel=0.01)]

    run(tmp_path, test)
