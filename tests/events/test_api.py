"""The EventBridge control plane through boto3 and the aws CLI: buses, rules, targets, tags, PutEvents' entry
rules and AWS's errors, and ScheduleExpression validation compared with the recorded test_events_schedule
entries."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import AWS, cli_environment
from tests.server import LaminaProcess

SCHEDULE = (
    Path(__file__).parents[1] / "conformance" / "aws-recorded" / "services__events__test_events_schedule.snapshot.json"
)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_default_bus_exists_and_cannot_be_deleted(events: Any) -> None:
    described = events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    assert any(b["Name"] == "default" for b in events.list_event_buses()["EventBuses"])
    with pytest.raises(ClientError) as err:
        events.delete_event_bus(Name="default")
    assert _error(err) == ("ValidationException", "Cannot delete event bus default.", 400)


def test_custom_bus_lifecycle_and_tags(events: Any) -> None:
    name = f"bus-{uuid.uuid4().hex[:8]}"
    arn = events.create_event_bus(Name=name, Description="d", Tags=[{"Key": "k", "Value": "v"}])["EventBusArn"]
    try:
        assert arn == f"arn:aws:events:us-east-1:000000000000:event-bus/{name}"
        with pytest.raises(ClientError) as err:
            events.create_event_bus(Name=name)
        assert _error(err) == ("ResourceAlreadyExistsException", f"Event bus {name} already exists.", 400)
        described = events.describe_event_bus(Name=arn)
        assert described["Name"] == name and described["Description"] == "d"
        assert "CreationTime" in described
        assert events.list_event_buses(NamePrefix=name)["EventBuses"][0]["Arn"] == arn
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "b"}])
        events.untag_resource(ResourceARN=arn, TagKeys=["k"])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "b"}]
    finally:
        events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as err:
        events.describe_event_bus(Name=name)
    assert _error(err) == ("ResourceNotFoundException", f"Event bus {name} does not exist.", 400)
    events.delete_event_bus(Name=name)  # deleting a missing bus succeeds, as on AWS
    with pytest.raises(ClientError) as err:
        events.create_event_bus(Name="a/b")
    assert _error(err) == ("ValidationException", "Event bus name must not contain '/'.", 400)


def test_rules_and_targets(events: Any, make_bus: Any) -> None:
    bus = make_bus()
    pattern = json.dumps({"source": ["my.app"]})
    arn = events.put_rule(Name="r1", EventBusName=bus, EventPattern=pattern, Description="x")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:000000000000:rule/{bus}/r1"
    described = events.describe_rule(Name="r1", EventBusName=bus)
    assert {k: v for k, v in described.items() if k != "ResponseMetadata"} == {
        "Name": "r1",
        "Arn": arn,
        "EventPattern": pattern,
        "State": "ENABLED",
        "Description": "x",
        "EventBusName": bus,
        "CreatedBy": "000000000000",
    }
    events.disable_rule(Name="r1", EventBusName=bus)
    assert events.describe_rule(Name="r1", EventBusName=bus)["State"] == "DISABLED"
    events.enable_rule(Name="r1", EventBusName=bus)
    queue = "arn:aws:sqs:us-east-1:000000000000:some-queue"
    result = events.put_targets(
        Rule="r1",
        EventBusName=bus,
        Targets=[
            {"Id": "t1", "Arn": queue, "Input": '{"a": 1}'},
            {"Id": "t2", "Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
        ],
    )
    assert result["FailedEntryCount"] == 1 and result["FailedEntries"][0]["TargetId"] == "t2"
    assert events.list_targets_by_rule(Rule="r1", EventBusName=bus)["Targets"] == [
        {"Id": "t1", "Arn": queue, "Input": '{"a": 1}'}
    ]
    assert events.list_rule_names_by_target(TargetArn=queue, EventBusName=bus)["RuleNames"] == ["r1"]
    with pytest.raises(ClientError) as err:
        events.delete_rule(Name="r1", EventBusName=bus)
    assert _error(err) == ("ValidationException", "Rule can't be deleted since it has targets.", 400)
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule="r1", EventBusName=bus, Targets=[{"Id": f"x{i}", "Arn": queue} for i in range(5)])
    assert _error(err)[0] == "LimitExceededException"
    assert len(events.list_targets_by_rule(Rule="r1", EventBusName=bus)["Targets"]) == 1  # nothing changed
    assert events.remove_targets(Rule="r1", EventBusName=bus, Ids=["t1"])["FailedEntryCount"] == 0
    events.delete_rule(Name="r1", EventBusName=bus)
    with pytest.raises(ClientError) as err:
        events.describe_rule(Name="r1", EventBusName=bus)
    assert _error(err) == ("ResourceNotFoundException", f"Rule r1 does not exist on EventBus {bus}.", 400)


def test_list_rules_pages(events: Any, make_bus: Any) -> None:
    bus = make_bus()
    for i in range(5):
        events.put_rule(Name=f"p{i}", EventBusName=bus, EventPattern='{"source": ["s"]}')
    first = events.list_rules(EventBusName=bus, Limit=2)
    assert [r["Name"] for r in first["Rules"]] == ["p0", "p1"]
    names = [r["Name"] for page in events.get_paginator("list_rules").paginate(EventBusName=bus) for r in page["Rules"]]
    assert names == [f"p{i}" for i in range(5)]
    assert [r["Name"] for r in events.list_rules(EventBusName=bus, NamePrefix="p3")["Rules"]] == ["p3"]


def test_target_input_validation(events: Any, make_rule: Any) -> None:
    rule = make_rule('{"source": ["s"]}', [])
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": queue, "Input": "{", "InputPath": "$.detail"}])
    assert _error(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": queue, "Input": "not json"}])
    assert _error(err) == ("ValidationException", "Provided input for target t is not a valid JSON text.", 400)
    with pytest.raises(ClientError) as err:
        events.put_targets(
            Rule=rule,
            Targets=[
                {
                    "Id": "t",
                    "Arn": queue,
                    "InputTransformer": {"InputPathsMap": {"aws.events.x": "$.a"}, "InputTemplate": "<x>"},
                }
            ],
        )
    assert _error(err)[0] == "ValidationException"
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []


def test_put_events_entry_errors(events: Any) -> None:
    result = events.put_events(
        Entries=[
            {"Source": "s", "DetailType": "t", "Detail": "{}"},
            {"Source": "s", "DetailType": "t"},
            {"Source": "s", "DetailType": "t", "Detail": "[1]"},
            {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "no-such-bus"},
        ]
    )
    assert result["FailedEntryCount"] == 3
    ok, missing, malformed, nobus = result["Entries"]
    assert uuid.UUID(ok["EventId"])
    assert missing == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument.",
    }
    assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert nobus["ErrorCode"] == "EventBusNotFound"


def test_put_events_limits(events: Any) -> None:
    with pytest.raises(ClientError) as err:
        events.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11)
    assert _error(err)[0] == "ValidationException"
    big = json.dumps({"x": "y" * 140_000})
    with pytest.raises(ClientError) as err:
        events.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": big}] * 2)
    assert _error(err) == ("ValidationException", "Total size of the entries in the request is over the limit.", 400)


def test_put_rule_needs_a_pattern_or_a_schedule(events: Any) -> None:
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="nothing")
    assert _error(err) == (
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        400,
    )


def _schedule_cases(kind: str) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads(SCHEDULE.read_text())
    out = []
    for key, entry in data.items():
        if f"::{kind}[" in key:
            out.append((key.split("[", 1)[1][:-1], entry["recorded-content"]))
    return out


@pytest.mark.parametrize(("expression", "recorded"), _schedule_cases("tests_put_rule_with_invalid_schedule_cron"))
def test_recorded_invalid_schedules(events: Any, expression: str, recorded: dict[str, Any]) -> None:
    name = f"s-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=name, ScheduleExpression=expression)
    expected = recorded["invalid-put-rule"]
    assert err.value.response["Error"] == expected["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == expected["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    ("expression", "recorded"),
    [*_schedule_cases("tests_put_rule_with_schedule_cron"), ("rate(1 minute)", {}), ("rate(5 minutes)", {})],
)
def test_recorded_valid_schedules_are_listed(events: Any, expression: str, recorded: dict[str, Any]) -> None:
    name = f"s-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=name, ScheduleExpression=expression)
    try:
        [rule] = events.list_rules(NamePrefix=name)["Rules"]
        assert {k: v for k, v in rule.items()} == {
            "Name": name,
            "Arn": f"arn:aws:events:us-east-1:000000000000:rule/{name}",
            "ScheduleExpression": expression,
            "State": "ENABLED",
            "EventBusName": "default",
        }
        if recorded:
            assert set(rule) == set(recorded["list-rules"]["Rules"][0])
    finally:
        events.delete_rule(Name=name)


def test_schedule_only_on_the_default_bus(events: Any, make_bus: Any) -> None:
    data = json.loads(SCHEDULE.read_text())
    [entry] = [v for k, v in data.items() if k.endswith("::tests_put_rule_with_schedule_custom_event_bus")]
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="s", EventBusName=make_bus(), ScheduleExpression="rate(1 minute)")
    assert err.value.response["Error"] == entry["recorded-content"]["put-rule-with-custom-event-bus-error"]["Error"]


def test_aws_cli(lamina: LaminaProcess, tmp_path: Path, make_bus: Any) -> None:
    env = cli_environment(tmp_path)
    bus = make_bus()

    def aws(*args: str) -> Any:
        out = subprocess.run(
            [str(AWS), "--endpoint-url", lamina.url, "events", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else None

    arn = aws("put-rule", "--name", "cli", "--event-bus-name", bus, "--event-pattern", '{"source":["cli"]}')["RuleArn"]
    assert arn.endswith(f"rule/{bus}/cli")
    assert [r["Name"] for r in aws("list-rules", "--event-bus-name", bus)["Rules"]] == ["cli"]
    entries = json.dumps([{"Source": "cli", "DetailType": "t", "Detail": "{}", "EventBusName": bus}])
    assert aws("put-events", "--entries", entries)["FailedEntryCount"] == 0
    event = {
        "id": "1",
        "account": "1",
        "source": "cli",
        "time": "2024-01-01T00:00:00Z",
        "region": "r",
        "detail-type": "t",
    }
    result = aws("test-event-pattern", "--event-pattern", '{"source":["cli"]}', "--event", json.dumps(event))
    assert result == {"Result": True}
    aws("delete-rule", "--name", "cli", "--event-bus-name", bus)


def test_bus_permissions(events: Any, make_bus: Any) -> None:
    bus = make_bus()
    arn = events.describe_event_bus(Name=bus)["Arn"]
    assert "Policy" not in events.describe_event_bus(Name=bus)
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="111122223333", StatementId="one")
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="all")
    policy = json.loads(events.describe_event_bus(Name=bus)["Policy"])
    assert policy["Statement"][0] == {
        "Sid": "one",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "events:PutEvents",
        "Resource": arn,
    }
    assert [s["Sid"] for s in policy["Statement"]] == ["one", "all"]
    events.remove_permission(EventBusName=bus, StatementId="one")
    with pytest.raises(ClientError) as err:
        events.remove_permission(EventBusName=bus, StatementId="one")
    assert _error(err) == ("ResourceNotFoundException", "Statement with the provided id does not exist.", 400)
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=bus)
    with pytest.raises(ClientError) as err:
        events.remove_permission(EventBusName=bus, StatementId="all")
    assert _error(err) == ("ResourceNotFoundException", "EventBus does not have a policy.", 400)


def test_update_event_bus(events: Any, make_queue: Any) -> None:
    name = f"bus-{uuid.uuid4().hex[:8]}"
    arn = events.create_event_bus(Name=name, Description="first", KmsKeyIdentifier="alias/k")["EventBusArn"]
    try:
        assert events.describe_event_bus(Name=name)["KmsKeyIdentifier"] == "alias/k"
        _, queue_arn = make_queue()
        out = events.update_event_bus(Name=name, Description="second", DeadLetterConfig={"Arn": queue_arn})
        out.pop("ResponseMetadata")
        # no KmsKeyIdentifier: back on an AWS owned key, as AWS documents
        assert out == {"Arn": arn, "Name": name, "Description": "second", "DeadLetterConfig": {"Arn": queue_arn}}
        described = events.describe_event_bus(Name=name)
        assert described["Description"] == "second" and described["DeadLetterConfig"] == {"Arn": queue_arn}
        assert "KmsKeyIdentifier" not in described
        events.update_event_bus(Name=name, KmsKeyIdentifier="alias/other")  # the rest is kept
        described = events.describe_event_bus(Name=name)
        assert described["Description"] == "second" and described["KmsKeyIdentifier"] == "alias/other"
        events.update_event_bus(Name=name, Description="", DeadLetterConfig={})
        described = events.describe_event_bus(Name=name)
        assert "Description" not in described and "DeadLetterConfig" not in described
        with pytest.raises(ClientError) as err:
            events.update_event_bus(Name="no-such-bus", Description="x")
        assert _error(err) == ("ResourceNotFoundException", "Event bus no-such-bus does not exist.", 400)
    finally:
        events.delete_event_bus(Name=name)


def test_update_default_bus(events: Any) -> None:
    try:
        out = events.update_event_bus(Description="the default")
        assert out["Name"] == "default" and out["Description"] == "the default"
        assert events.describe_event_bus()["Description"] == "the default"
        assert events.describe_event_bus()["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
        assert sum(b["Name"] == "default" for b in events.list_event_buses()["EventBuses"]) == 1
    finally:
        events.update_event_bus(Description="")
