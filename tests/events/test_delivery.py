"""Events reaching targets end to end through a real server: rule → SQS (the event's shape as recorded from AWS),
Input / InputPath / InputTransformer, rule → Lambda (needs the resource policy; DLQ when it is missing),
rule → SNS → SQS, bus → bus, Lambda async destinations to a bus (issue 14 item 6), and an accepted event that
survives kill -9."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.events.conftest import drain
from tests.server import ROLE

RECORDED = Path(__file__).parents[1] / "conformance" / "aws-recorded"
ECHO = """
def handler(event, context):
    if event.get("mode") == "failure" or (event.get("detail") or {}).get("fail"):
        raise Exception("intentional failure!")
    return {"hello": "world", "got": event}
"""


def _recorded(file: str, suffix: str) -> dict[str, Any]:
    data = json.loads((RECORDED / file).read_text())
    [entry] = [v for k, v in data.items() if k.endswith(suffix)]
    content: dict[str, Any] = entry["recorded-content"]
    return content


def _function(lambda_client: Any, **extra: Any) -> tuple[str, str]:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    arn: str = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": ECHO})},
        **extra,
    )["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    return name, arn


def _put(events: Any, bus: str = "default", **detail: Any) -> str:
    entry = {"Source": "core.update-account-command", "DetailType": "core.update-account-command"}
    result = events.put_events(Entries=[{**entry, "Detail": json.dumps(detail), "EventBusName": bus}])
    assert result["FailedEntryCount"] == 0
    event_id: str = result["Entries"][0]["EventId"]
    return event_id


PATTERN = json.dumps({"source": ["core.update-account-command"]})
DETAIL: dict[str, Any] = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}


def test_rule_to_sqs_gives_awss_event(events: Any, sqs: Any, make_queue: Any, make_rule: Any) -> None:
    url, arn = make_queue()
    make_rule(PATTERN, [{"Id": "q", "Arn": arn}])
    event_id = _put(events, **DETAIL)
    [message] = drain(sqs, url, 1)
    body = json.loads(message["Body"])
    [expected] = _recorded(
        "services__events__test_events_targets.snapshot.json", "TestEventsTargetSqs::test_put_events_with_target_sqs"
    )["message"]
    assert list(body) == list(expected["Body"])  # same fields, same order
    assert body["id"] == event_id and body["detail"] == expected["Body"]["detail"]
    assert body["account"] == "000000000000" and body["region"] == "us-east-1" and body["resources"] == []
    assert body["version"] == "0" and body["source"] == body["detail-type"] == "core.update-account-command"
    assert message["Body"].startswith('{"version":"0","id":')  # compact, as AWS sends it


def test_patterns_pick_the_rules(events: Any, sqs: Any, make_queue: Any, make_rule: Any, make_bus: Any) -> None:
    bus = make_bus()
    url, arn = make_queue()
    make_rule(json.dumps({"detail": {"n": [{"numeric": [">", 10]}]}}), [{"Id": "q", "Arn": arn}], bus=bus)
    off = make_rule(json.dumps({"detail": {"n": [{"exists": True}]}}), [{"Id": "q", "Arn": arn}], bus=bus)
    events.disable_rule(Name=off, EventBusName=bus)
    for n in (5, 11, 20):
        _put(events, bus, n=n)
    assert sorted(json.loads(m["Body"])["detail"]["n"] for m in drain(sqs, url, 2)) == [11, 20]


def test_input_input_path_and_transformer(
    events: Any, sqs: Any, make_queue: Any, make_rule: Any, make_bus: Any
) -> None:
    bus = make_bus()
    queues = [make_queue() for _ in range(4)]
    transformer = {
        "InputPathsMap": {"cmd": "$.detail.command", "id": "$.detail.payload.sf_id", "p": "$.detail.payload"},
        "InputTemplate": '{"c": <cmd>, "text": "<cmd> of <id>", "payload": <p>, "rule": "<aws.events.rule-name>"}',
    }
    rule = make_rule(
        PATTERN,
        [
            {"Id": "input", "Arn": queues[0][1], "Input": '{"custom-value": "somecustominput"}'},
            {"Id": "path", "Arn": queues[1][1], "InputPath": "$.detail.payload"},
            {"Id": "json", "Arn": queues[2][1], "InputTransformer": transformer},
            {
                "Id": "text",
                "Arn": queues[3][1],
                "InputTransformer": {"InputPathsMap": {"id": "$.detail.payload.sf_id"}, "InputTemplate": '"id <id>"'},
            },
        ],
        bus=bus,
    )
    _put(events, bus, **DETAIL)
    recorded = _recorded(
        "services__events__test_events_schedule.snapshot.json", "tests_schedule_rate_custom_input_target_sqs"
    )
    assert json.loads(drain(sqs, queues[0][0], 1)[0]["Body"]) == recorded["messages"][0]["Body"]
    assert json.loads(drain(sqs, queues[1][0], 1)[0]["Body"]) == DETAIL["payload"]
    assert json.loads(drain(sqs, queues[2][0], 1)[0]["Body"]) == {
        "c": "update-account",
        "text": "update-account of baz",
        "payload": DETAIL["payload"],
        "rule": rule,
    }
    assert drain(sqs, queues[3][0], 1)[0]["Body"] == '"id baz"'


@pytest.mark.slow
def test_rule_to_lambda_needs_the_resource_policy(
    events: Any, sqs: Any, lambda_client: Any, make_queue: Any, make_rule: Any, make_bus: Any
) -> None:
    bus = make_bus()
    outcome_url, outcome_arn = make_queue()
    dlq_url, dlq_arn = make_queue()
    name, function_arn = _function(lambda_client)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
        )
        target = {"Id": "fn", "Arn": function_arn, "DeadLetterConfig": {"Arn": dlq_arn}}
        rule = make_rule(PATTERN, [target], bus=bus)
        rule_arn = events.describe_rule(Name=rule, EventBusName=bus)["Arn"]
        first = _put(events, bus, n=1)
        [dead] = drain(sqs, dlq_url, 1)
        assert json.loads(dead["Body"])["id"] == first
        attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
        assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
        assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == function_arn
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="events",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        second = _put(events, bus, n=2)
        [record] = [json.loads(m["Body"]) for m in drain(sqs, outcome_url, 1, timeout=60)]
        assert record["requestPayload"]["id"] == second and record["requestPayload"]["detail"] == {"n": 2}
        [recorded] = _recorded(
            "services__events__test_events_targets.snapshot.json",
            "TestEventsTargetLambda::test_put_events_with_target_lambda",
        )["events"]
        assert list(record["requestPayload"]) == list(recorded)  # the event a function gets, fields as on AWS
        assert record["responsePayload"]["hello"] == "world"
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_rule_to_sns_to_sqs(events: Any, sqs: Any, sns: Any, make_queue: Any, make_rule: Any) -> None:
    url, arn = make_queue()
    wrapped_url, wrapped_arn = make_queue()
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=wrapped_arn)
        make_rule(PATTERN, [{"Id": "t", "Arn": topic}])
        event_id = _put(events, **DETAIL)
        [message] = drain(sqs, url, 1)
        body = json.loads(message["Body"])
        assert body["id"] == event_id and body["detail"] == DETAIL
        [wrapped] = drain(sqs, wrapped_url, 1)
        [expected] = _recorded(
            "services__events__test_events_targets.snapshot.json", "test_put_events_with_target_sns[standard]"
        )["messages"]
        notification = json.loads(wrapped["Body"])
        assert set(notification) == set(expected["Body"])
        assert notification["Message"] == message["Body"]  # compact JSON, as the recorded Message
    finally:
        sns.delete_topic(TopicArn=topic)


def test_bus_to_bus(events: Any, sqs: Any, make_queue: Any, make_rule: Any, make_bus: Any) -> None:
    first, second = make_bus(), make_bus()
    url, arn = make_queue()
    second_arn = events.describe_event_bus(Name=second)["Arn"]
    make_rule(PATTERN, [{"Id": "bus", "Arn": second_arn}], bus=first)
    make_rule(PATTERN, [{"Id": "q", "Arn": arn}], bus=second)
    event_id = _put(events, first, **DETAIL)
    [message] = drain(sqs, url, 1)
    assert json.loads(message["Body"])["id"] == event_id


@pytest.mark.slow
def test_lambda_destinations_to_a_bus(
    events: Any, sqs: Any, lambda_client: Any, make_queue: Any, make_rule: Any, make_bus: Any
) -> None:
    bus = make_bus()
    bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    url, arn = make_queue()
    make_rule(json.dumps({"source": ["lambda"]}), [{"Id": "q", "Arn": arn}], bus=bus)
    name, function_arn = _function(lambda_client)
    try:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnSuccess": {"Destination": bus_arn}, "OnFailure": {"Destination": bus_arn}},
        )
        lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"mode": "success"}')
        lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"mode": "failure"}')
        got = {json.loads(m["Body"])["detail-type"]: json.loads(m["Body"]) for m in drain(sqs, url, 2, timeout=60)}
        recorded = _recorded(
            "services__lambda___test_lambda_destinations.snapshot.json", "::test_invoke_lambda_eventbridge"
        )
        for key, condition in (("success", "Success"), ("failure", "RetriesExhausted")):
            expected = recorded[f"lambda_destination_event_bus_{key}"]
            event = got[expected["detail-type"]]
            assert set(event) == set(expected)
            assert event["source"] == "lambda" and event["version"] == "0"
            assert event["resources"] == [bus_arn, f"{function_arn}:$LATEST"]
            assert set(event["detail"]) == set(expected["detail"])
            assert event["detail"]["requestContext"]["condition"] == condition
            assert event["detail"]["requestPayload"] == expected["detail"]["requestPayload"]
            assert set(event["detail"]["responseContext"]) == set(expected["detail"]["responseContext"])
    finally:
        lambda_client.delete_function(FunctionName=name)


@pytest.mark.slow
def test_accepted_event_survives_kill_9(fresh_lamina: Any, tmp_path: Path) -> None:
    server = fresh_lamina(data_dir=tmp_path / "d")
    events, sqs = server.client("events"), server.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    ids = [_put(events, n=i) for i in range(20)]
    server.kill()  # kill -9 right after the answers: each accepted event is in the store, pending or delivered
    server = fresh_lamina(data_dir=tmp_path / "d")
    sqs = server.client("sqs")
    got = {json.loads(m["Body"])["id"] for m in drain(sqs, url, 20)}
    assert got >= set(ids)


BASE = {"source": ["core.update-account-command"], "detail-type": ["core.update-account-command"]}


@pytest.mark.parametrize(
    ("case", "key", "detail_pattern", "details"),
    [
        (
            "test_put_events_with_rule_pattern_anything_but",
            "rule-anything-but",
            {"command": [{"anything-but": ["no-message"]}]},
            [{"command": "display-message", "payload": "baz"}, {"command": None, "payload": "baz"},
             {"command": "no-message", "payload": "baz"}],
        ),
        (
            "test_put_events_with_rule_pattern_exists_true",
            "rule-exists-true",
            {"key": [{"exists": True}]},
            [{"key": "value", "payload": "baz"}, {"no-key": "no-value", "payload": "baz"}],
        ),
        (
            "test_put_events_with_rule_pattern_exists_false",
            "rule-exists-false",
            {"key": [{"exists": False}]},
            [{"key": "value", "payload": "baz"}, {"no-key": "no-value", "payload": "baz"}],
        ),
    ],
)  # fmt: skip
def test_recorded_rules_with_patterns(
    events: Any,
    sqs: Any,
    make_queue: Any,
    make_rule: Any,
    case: str,
    key: str,
    detail_pattern: dict[str, Any],
    details: list[dict[str, Any]],
) -> None:
    """The recorded TestRuleWithPattern entries: which of the events put reach the rule's SQS target."""
    url, arn = make_queue()
    make_rule(json.dumps({**BASE, "detail": detail_pattern}), [{"Id": "q", "Arn": arn}])
    for detail in details:
        _put(events, **detail)
    expected = _recorded("services__events__test_events_patterns.snapshot.json", f"::{case}")[key]
    got = [json.loads(m["Body"]) for m in drain(sqs, url, len(expected))]
    assert sorted(json.dumps(b["detail"]) for b in got) == sorted(json.dumps(m["Body"]["detail"]) for m in expected)
    assert all(list(b) == list(m["Body"]) for b, m in zip(got, expected, strict=True))


def test_recorded_content_based_rule(events: Any, sqs: Any, make_queue: Any, make_rule: Any, make_bus: Any) -> None:
    """test_put_event_with_content_base_rule_in_pattern: a pattern using most matchers at once, the target's
    InputPath `$.detail`; the recorded message body is the event's detail."""
    [expected] = _recorded(
        "services__events__test_events_patterns.snapshot.json", "::test_put_event_with_content_base_rule_in_pattern"
    )["messages"]
    pattern = {
        "source": [{"exists": True}],
        "detail-type": [{"prefix": "core.app"}],
        "detail": {
            "description": ["this-is-event-details"],
            "amount": [200],
            "salary": [2000, 4000],
            "env": ["dev", "prod"],
            "user": ["user1", "user2", "user3"],
            "admins": ["skyli", {"prefix": "hey"}, {"prefix": "ad"}],
            "test1": [{"anything-but": 200}],
            "test2": [{"anything-but": "test2"}],
            "test3": [{"anything-but": ["test3", "test33"]}],
            "test4": [{"anything-but": {"prefix": "test4"}}],
            "ip": [{"cidr": "10.102.1.0/24"}],
            "num-test1": [{"numeric": ["<", 200]}],
            "num-test2": [{"numeric": ["<=", 200]}],
            "num-test3": [{"numeric": [">", 200]}],
            "num-test4": [{"numeric": [">=", 200]}],
            "num-test5": [{"numeric": [">=", 200, "<=", 500]}],
            "num-test6": [{"numeric": [">", 200, "<", 500]}],
            "num-test7": [{"numeric": [">=", 200, "<", 500]}],
        },
    }
    bus = make_bus()
    url, arn = make_queue()
    make_rule(json.dumps(pattern), [{"Id": "q", "Arn": arn, "InputPath": "$.detail"}], bus=bus)
    entry = {"Source": "core.update-account-command", "DetailType": "core.app.backend", "EventBusName": bus}
    no_match = {**expected["Body"], "num-test7": 500}
    events.put_events(Entries=[{**entry, "Detail": json.dumps(d)} for d in (expected["Body"], no_match)])
    assert [json.loads(m["Body"]) for m in drain(sqs, url, 1)] == [expected["Body"]]


def test_fifo_queue_target_needs_a_message_group(events: Any, sqs: Any, make_rule: Any) -> None:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = make_rule(PATTERN, [])
        with pytest.raises(ClientError) as err:
            events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": arn}])
        assert err.value.response["Error"]["Message"] == "Parameter(s) SqsParameters must be specified for target: f."
        target = {"Id": "f", "Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}}
        assert events.put_targets(Rule=rule, Targets=[target])["FailedEntryCount"] == 0
        ids = [_put(events, n=i) for i in range(3)]
        messages: list[dict[str, Any]] = []
        for _ in range(10):
            if len(messages) == 3:
                break
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2, AttributeNames=["All"])
            for m in got.get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                messages.append(m)
        assert sorted(json.loads(m["Body"])["id"] for m in messages) == sorted(ids)  # (EventBridge keeps no order)
        assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"g1"}
        assert {m["Attributes"]["MessageDeduplicationId"] for m in messages} == set(ids)
    finally:
        sqs.delete_queue(QueueUrl=url)
