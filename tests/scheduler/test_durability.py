"""Schedules are documents: they survive a restart and a kill -9, and a fire due while Lamina was down
happens once when it is back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.scheduler.conftest import at_in, receive, target

OFF = {"Mode": "OFF"}


def test_schedules_and_groups_survive_a_restart(fresh_lamina: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = fresh_lamina(data_dir=data)
    scheduler = server.client("scheduler")
    scheduler.create_schedule_group(Name="team", Tags=[{"Key": "k", "Value": "v"}])
    scheduler.create_schedule(
        Name="nightly",
        GroupName="team",
        ScheduleExpression="cron(0 3 * * ? *)",
        ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
        Target=target("arn:aws:sqs:us-east-1:000000000000:q", Input="{}"),
    )
    before = scheduler.get_schedule(Name="nightly", GroupName="team")
    server.stop()
    again = fresh_lamina(data_dir=data).client("scheduler")
    after = again.get_schedule(Name="nightly", GroupName="team")
    for member in ("Arn", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target",
                   "CreationDate"):  # fmt: skip
        assert after[member] == before[member]
    group_arn = again.get_schedule_group(Name="team")["Arn"]
    assert again.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_a_fire_due_during_a_kill_happens_once_after_restart(fresh_lamina: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = fresh_lamina(data_dir=data)
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="missed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    server.client("scheduler").create_schedule(
        Name="while-down", ScheduleExpression=at_in(3), FlexibleTimeWindow=OFF, Target=target(arn, Input='{"m": 1}')
    )
    server.kill()  # kill -9, before the schedule is due
    time.sleep(4)
    restarted = fresh_lamina(data_dir=data)
    sqs = restarted.client("sqs")
    messages = receive(sqs, url)
    assert [json.loads(m["Body"]) for m in messages] == [{"m": 1}]
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", []) == []  # once
