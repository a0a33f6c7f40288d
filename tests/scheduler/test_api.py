"""EventBridge Scheduler through boto3 against a real Lamina: schedules, groups, tags, errors, and fires that
reach SQS, SNS and Lambda targets."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.scheduler.conftest import at_in, receive, target

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:nowhere"
OFF = {"Mode": "OFF"}


def unique(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**params)
    response = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_with_aws_defaults(scheduler: Any) -> None:
    name = unique()
    arn = scheduler.create_schedule(
        Name=name, ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow=OFF, Target=target(QUEUE_ARN)
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"
    got = scheduler.get_schedule(Name=name)
    assert got["Arn"] == arn
    assert got["GroupName"] == "default"
    assert got["State"] == "ENABLED"
    assert got["ScheduleExpressionTimezone"] == "UTC"
    assert got["ActionAfterCompletion"] == "NONE"
    assert got["FlexibleTimeWindow"] == OFF
    assert got["Target"] == {
        "Arn": QUEUE_ARN,
        "RoleArn": "arn:aws:iam::000000000000:role/scheduler-role",
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    assert got["CreationDate"] == got["LastModificationDate"]
    assert abs(got["CreationDate"].timestamp() - time.time()) < 60
    assert "Description" not in got and "StartDate" not in got
    scheduler.delete_schedule(Name=name)
    assert error(scheduler.get_schedule, Name=name)[0] == "ResourceNotFoundException"


def test_update_replaces_the_schedule(scheduler: Any) -> None:
    name = unique()
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(5 minutes)",
        Description="first",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        Target=target(QUEUE_ARN, Input="{}"),
    )
    created = scheduler.get_schedule(Name=name)
    time.sleep(0.01)
    end = datetime.now(UTC) + timedelta(days=3)
    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Paris",
        EndDate=end,
        State="DISABLED",
        FlexibleTimeWindow=OFF,
        Target=target(QUEUE_ARN),
    )
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert got["State"] == "DISABLED"
    assert "Description" not in got  # left out of the update: gone, as on AWS
    assert "Input" not in got["Target"]
    assert abs(got["EndDate"].timestamp() - end.timestamp()) < 0.01
    assert got["CreationDate"] == created["CreationDate"]
    assert got["LastModificationDate"] > created["LastModificationDate"]
    # The shape AWS answered after such an update (LocalStack's AWS-recorded test_update_schedule).
    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="rate(2 minute)",  # AWS does not insist on the plural here
        State="DISABLED",
        ActionAfterCompletion="DELETE",
        FlexibleTimeWindow=OFF,
        Target=target(QUEUE_ARN, Input='{"otherkey": "othervalue"}'),
    )
    got = scheduler.get_schedule(Name=name)
    got.pop("ResponseMetadata")
    assert set(got) == {"ActionAfterCompletion", "Arn", "CreationDate", "FlexibleTimeWindow", "GroupName",
                        "LastModificationDate", "Name", "ScheduleExpression", "ScheduleExpressionTimezone", "State",
                        "Target"}  # fmt: skip
    assert (got["ActionAfterCompletion"], got["ScheduleExpression"], got["State"]) == ("DELETE", "rate(2 minute)",
                                                                                         "DISABLED")  # fmt: skip
    assert set(got["Target"]) == {"Arn", "Input", "RetryPolicy", "RoleArn"}
    scheduler.delete_schedule(Name=name)


def test_invalid_input_is_refused_and_nothing_is_created(scheduler: Any, lamina: Any) -> None:
    raw = lamina.client("scheduler", parameter_validation=False)  # what botocore would refuse before sending
    name = unique()
    base = {"Name": name, "ScheduleExpression": "rate(5 minutes)", "FlexibleTimeWindow": OFF,
            "Target": target(QUEUE_ARN)}  # fmt: skip
    for expression in ("rate(10 seconds)", "cron(0 1 * * * *)", "at(2021-12-31)", "rate(10 minutess)"):
        # the message AWS answers (recorded by LocalStack's AWS-validated scheduler tests)
        found = error(scheduler.create_schedule, **{**base, "ScheduleExpression": expression})
        assert found == ("ValidationException", f"Invalid Schedule Expression {expression}.", 400)
    assert error(scheduler.create_schedule, **{**base, "ScheduleExpressionTimezone": "Mars/Olympus"})[0] == (
        "ValidationException"
    )
    assert error(scheduler.create_schedule, **{**base, "FlexibleTimeWindow": {"Mode": "FLEXIBLE"}})[0] == (
        "ValidationException"
    )
    window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 0}  # the model's range is 1-1440
    assert error(raw.create_schedule, **{**base, "FlexibleTimeWindow": window})[0] == "ValidationException"
    now = datetime.now(UTC)
    dates = {"StartDate": now + timedelta(days=2), "EndDate": now + timedelta(days=1)}
    assert error(scheduler.create_schedule, **{**base, **dates})[0] == "ValidationException"
    retry = target(QUEUE_ARN, RetryPolicy={"MaximumRetryAttempts": 186})
    assert error(raw.create_schedule, **{**base, "Target": retry})[0] == "ValidationException"
    assert error(raw.create_schedule, **{**base, "Name": "bad name!"})[0] == "ValidationException"
    missing = error(scheduler.create_schedule, **{**base, "GroupName": "no-such-group"})
    assert missing == ("ResourceNotFoundException", "Schedule group no-such-group does not exist.", 404)
    assert error(scheduler.get_schedule, Name=name) == (
        "ResourceNotFoundException",
        f"Schedule {name} does not exist.",
        404,
    )
    assert error(scheduler.update_schedule, **base)[0] == "ResourceNotFoundException"
    assert error(scheduler.delete_schedule, Name=name)[0] == "ResourceNotFoundException"
    assert name not in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    first = scheduler.create_schedule(**base, ClientToken="token-1")["ScheduleArn"]
    assert scheduler.create_schedule(**base, ClientToken="token-1")["ScheduleArn"] == first  # an SDK retry
    assert error(scheduler.create_schedule, **base) == ("ConflictException", f"Schedule {name} already exists.", 409)
    scheduler.delete_schedule(Name=name)


def test_list_filters_and_pages(scheduler: Any) -> None:
    prefix = unique("list")
    group = unique("grp")
    scheduler.create_schedule_group(Name=group)
    names = [f"{prefix}-{i}" for i in range(5)]
    for i, name in enumerate(names):
        scheduler.create_schedule(
            Name=name,
            GroupName=group if i == 4 else "default",
            State="DISABLED" if i == 3 else "ENABLED",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow=OFF,
            Target=target(QUEUE_ARN),
        )
    listed = scheduler.list_schedules(NamePrefix=prefix)["Schedules"]
    assert sorted(s["Name"] for s in listed) == names
    row = next(s for s in listed if s["Name"] == names[0])
    assert set(row) == {"Arn", "CreationDate", "GroupName", "LastModificationDate", "Name", "State", "Target"}
    assert row["Target"] == {"Arn": QUEUE_ARN}
    paginator = scheduler.get_paginator("list_schedules")
    pages = list(paginator.paginate(NamePrefix=prefix, PaginationConfig={"PageSize": 2}))
    assert [len(p["Schedules"]) for p in pages] == [2, 2, 1]
    assert sorted(s["Name"] for p in pages for s in p["Schedules"]) == names
    assert [s["Name"] for s in scheduler.list_schedules(NamePrefix=prefix, State="DISABLED")["Schedules"]] == [names[3]]
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]] == [names[4]]
    assert error(scheduler.list_schedules, GroupName="no-such-group")[0] == "ResourceNotFoundException"
    scheduler.delete_schedule_group(Name=group)
    for name in names[:4]:
        scheduler.delete_schedule(Name=name)


def test_groups_and_their_tags(scheduler: Any) -> None:
    default = scheduler.get_schedule_group(Name="default")
    assert default["Arn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default"
    assert default["State"] == "ACTIVE"
    name = unique("grp")
    arn = scheduler.create_schedule_group(Name=name, Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{name}"
    assert error(scheduler.create_schedule_group, Name=name) == (
        "ConflictException",
        f"Schedule group {name} already exists.",
        409,
    )
    assert {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]} >= {"default", name}
    assert [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=name)["ScheduleGroups"]] == [name]
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "b")]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    # Deleting a group deletes its schedules.
    scheduler.create_schedule(
        Name="inside", GroupName=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
        Target=target(QUEUE_ARN),
    )  # fmt: skip
    assert scheduler.get_schedule(Name="inside", GroupName=name)["GroupName"] == name
    scheduler.delete_schedule_group(Name=name)
    assert error(scheduler.get_schedule_group, Name=name)[0] == "ResourceNotFoundException"
    assert error(scheduler.get_schedule, Name="inside", GroupName=name)[0] == "ResourceNotFoundException"
    assert error(scheduler.delete_schedule_group, Name="default")[0] == "ValidationException"
    assert error(scheduler.list_tags_for_resource, ResourceArn=arn)[0] == "ResourceNotFoundException"


def test_at_schedule_sends_its_input_to_sqs_then_deletes_itself(scheduler: Any, sqs: Any, queue: Any) -> None:
    url, arn = queue()
    name = unique("at")
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=at_in(2),
        FlexibleTimeWindow=OFF,
        Target=target(arn, Input='{"job": "<aws.scheduler.schedule-arn>"}'),
        ActionAfterCompletion="DELETE",
    )
    [message] = receive(sqs, url)
    assert json.loads(message["Body"]) == {"job": f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and name in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]:
        time.sleep(0.1)
    assert error(scheduler.get_schedule, Name=name)[0] == "ResourceNotFoundException"


def test_sns_target_publishes_the_input(scheduler: Any, sqs: Any, queue: Any, lamina: Any) -> None:
    sns = lamina.client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url, arn = queue()
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"Policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*"}]})},
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    name = unique("sns")
    scheduler.create_schedule(
        Name=name, ScheduleExpression=at_in(2), FlexibleTimeWindow=OFF, Target=target(topic, Input="hello topic")
    )
    [message] = receive(sqs, url)
    assert message["Body"] == "hello topic"
    scheduler.delete_schedule(Name=name)
    sns.delete_topic(TopicArn=topic)


def test_lambda_target_is_invoked_asynchronously_with_the_input(
    scheduler: Any, sqs: Any, queue: Any, function_to_queue: Any
) -> None:
    url, arn = queue()
    function_arn = function_to_queue(arn)
    name = unique("fn")
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=at_in(2),
        FlexibleTimeWindow=OFF,
        Target=target(function_arn, Input='{"hello": "scheduler"}'),
    )
    [message] = receive(sqs, url, timeout=30)
    record = json.loads(message["Body"])
    assert record["requestPayload"] == {"hello": "scheduler"}
    assert record["responsePayload"] == {"got": {"hello": "scheduler"}}
    assert record["requestContext"]["condition"] == "Success"
    scheduler.delete_schedule(Name=name)


def test_health_names_the_service(lamina: Any) -> None:
    with urllib.request.urlopen(f"{lamina.url}/health", timeout=10) as answer:
        health = json.loads(answer.read())
    assert health["services"]["scheduler"] == "running"
    assert set(health["schedules"]) == {"schedules", "fired", "delivered", "failed"}


def test_a_missing_function_dead_letters_to_sqs(scheduler: Any, sqs: Any, queue: Any) -> None:
    url, dlq = queue()
    name = unique("dlq")
    missing = "arn:aws:lambda:us-east-1:000000000000:function:no-such-function"
    schedule_arn = scheduler.create_schedule(
        Name=name,
        ScheduleExpression=at_in(2),
        FlexibleTimeWindow=OFF,
        Target=target(
            missing, Input='{"lost": false}', RetryPolicy={"MaximumRetryAttempts": 0}, DeadLetterConfig={"Arn": dlq}
        ),
    )["ScheduleArn"]
    [message] = receive(sqs, url)
    assert json.loads(message["Body"]) == {"lost": False}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert attributes["SCHEDULE_ARN"] == schedule_arn
    assert attributes["TARGET_ARN"] == missing
    scheduler.delete_schedule(Name=name)
