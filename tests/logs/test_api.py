"""The logs API through boto3: groups, streams, PutLogEvents' rules, GetLogEvents' tokens, FilterLogEvents,
retention and tags, with AWS's errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.logs.conftest import now_ms

DAY = 86_400_000


def _error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return {
        "Code": info.value.response["Error"]["Code"],
        "Message": info.value.response["Error"]["Message"],
        "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_groups_create_describe_page_delete(logs: Any, make_group: Callable[..., str]) -> None:
    base = make_group()
    names = [make_group(f"{base}/{n}") for n in range(5)]
    assert _error(logs.create_log_group, logGroupName=base) == {
        "Code": "ResourceAlreadyExistsException",
        "Message": "The specified log group already exists",
        "Status": 400,
    }
    first = logs.describe_log_groups(logGroupNamePrefix=f"{base}/", limit=2)
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:2]
    rest = logs.describe_log_groups(logGroupNamePrefix=f"{base}/", limit=50, nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == names[2:] and "nextToken" not in rest
    upper = logs.describe_log_groups(logGroupNamePattern=base.rsplit("/", 1)[1].upper())["logGroups"]
    assert [g["logGroupName"] for g in upper] == [base, *names]
    paged = [g["logGroupName"] for p in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"{base}/", PaginationConfig={"PageSize": 2}) for g in p["logGroups"]]  # fmt: skip
    assert paged == names
    group = first["logGroups"][0]
    assert group["logGroupClass"] == "STANDARD" and "retentionInDays" not in group and group["storedBytes"] == 0
    logs.delete_log_group(logGroupName=names[0])
    assert _error(logs.delete_log_group, logGroupName=names[0]) == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log group does not exist.",
        "Status": 400,
    }
    assert _error(logs.create_log_group, logGroupName="bad name!")["Code"] in (
        "InvalidParameterException",
        "ValidationException",
    )


def test_streams_order_and_paging(logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group()
    t = now_ms()
    for n, name in enumerate(["b", "a", "c"]):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=[{"timestamp": t + n, "message": name}])
    assert _error(logs.create_log_stream, logGroupName=group, logStreamName="a")["Code"] == (
        "ResourceAlreadyExistsException"
    )
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a", "b", "c"]
    assert by_name[0]["firstEventTimestamp"] == by_name[0]["lastEventTimestamp"] == t + 1
    latest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in latest["logStreams"]] == ["c", "a", "b"]
    page = logs.describe_log_streams(logGroupName=group, limit=2)
    more = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in page["logStreams"] + more["logStreams"]] == ["a", "b", "c"]
    assert _error(logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a") == {
        "Code": "InvalidParameterException",
        "Message": "Cannot order by LastEventTime with a logStreamNamePrefix.",
        "Status": 400,
    }
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")[
        "logStreams"]] == ["b"]  # fmt: skip
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    assert _error(logs.delete_log_stream, logGroupName=group, logStreamName="b")["Message"] == (
        "The specified log stream does not exist."
    )
    assert _error(logs.describe_log_streams, logGroupName=group + "-missing")["Message"] == (
        "The specified log group does not exist."
    )


def test_put_log_events_rules(logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    unordered = [{"timestamp": t, "message": "2"}, {"timestamp": t - 1, "message": "1"}]
    assert _error(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=unordered) == {
        "Code": "InvalidParameterException",
        "Message": "Log events in a single PutLogEvents request must be in chronological order.",
        "Status": 400,
    }
    wide = [{"timestamp": t - DAY - 1, "message": "old"}, {"timestamp": t, "message": "new"}]
    assert _error(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=wide)["Message"] == (
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )
    big = [{"timestamp": t, "message": "x" * 262_000} for _ in range(5)]
    assert _error(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=big)["Code"] == (
        "InvalidParameterException"
    )
    assert _error(logs.put_log_events, logGroupName=group, logStreamName="nope", logEvents=[
        {"timestamp": t, "message": "m"}])["Message"] == "The specified log stream does not exist."  # fmt: skip
    # Nothing of the refused calls was stored.
    assert logs.get_log_events(logGroupName=group, logStreamName="s")["events"] == []
    mixed = [
        {"timestamp": t - 15 * DAY, "message": "too old"},
        {"timestamp": t - 15 * DAY + 1, "message": "too old too"},
        {"timestamp": t - 14 * DAY + 60_000, "message": "kept 1"},
        {"timestamp": t, "message": "kept 2"},
    ]
    # 24 h span applies: split the too-old ones off into their own call
    answer = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=mixed[:2])
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    future = [{"timestamp": t, "message": "kept 2"}, {"timestamp": t + 3 * 3_600_000, "message": "too new"}]
    answer = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=future)
    assert answer["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    assert "nextSequenceToken" in answer
    events = logs.get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["kept 2"]
    assert events[0]["timestamp"] == t and events[0]["ingestionTime"] >= t - 5000


def test_get_log_events_tokens(logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group()
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    logs.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t + i, "message": str(i)} for i in range(10)]
    )
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3)
    assert [e["message"] for e in tail["events"]] == ["7", "8", "9"]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["4", "5", "6"]
    head = logs.get_log_events(logGroupName=group, logStreamName="s", limit=4, startFromHead=True)
    assert [e["message"] for e in head["events"]] == ["0", "1", "2", "3"]
    seen = [e["message"] for e in head["events"]]
    token = head["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName="s", limit=4, nextToken=token)
        if page["nextForwardToken"] == token:  # the same token at the end
            assert page["events"] == []
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [str(i) for i in range(10)]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t + 20, "message": "late"}])
    later = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token)
    assert [e["message"] for e in later["events"]] == ["late"]
    start = logs.get_log_events(logGroupName=group, logStreamName="s", limit=2, startFromHead=True)
    before = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=start["nextBackwardToken"])
    assert before["events"] == [] and before["nextBackwardToken"] == start["nextBackwardToken"]
    window = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=t + 2, endTime=t + 5)
    assert [e["message"] for e in window["events"]] == ["2", "3", "4"]
    assert _error(logs.get_log_events, logGroupName=group, logStreamName="s", nextToken="garbage")["Code"] == (
        "InvalidParameterException"
    )


def test_filter_log_events_patterns(logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group()
    t = now_ms()
    lines = {
        "a": ["ERROR disk full", "INFO all good", '{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}'],
        "b": ["WARN slow request", '{"level": "INFO", "latency": 50}', "127.0.0.1 GET /index.html 404 512"],
    }
    for n, (stream, messages) in enumerate(lines.items()):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = [{"timestamp": t + n * 10 + i, "message": m} for i, m in enumerate(messages)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def found(pattern: str, **kwargs: Any) -> list[str]:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern=pattern, **kwargs)
        return [e["message"] for page in pages for e in page["events"]]

    assert len(found("")) == 6
    assert found("ERROR") == ["ERROR disk full", lines["a"][2]]
    assert found('"disk full"') == ["ERROR disk full"]
    assert found("ERROR -disk") == [lines["a"][2]]
    assert found("?WARN ?disk") == ["ERROR disk full", "WARN slow request"]
    assert found('{ $.level = "ERROR" }') == [lines["a"][2]]
    assert found("{ $.latency > 100 }") == [lines["a"][2]]
    assert found('{ $.latency < 100 || $.user.id = "u1" }') == [lines["a"][2], lines["b"][1]]
    assert found('{ ($.level = "INFO") && ($.latency <= 50) }') == [lines["b"][1]]
    assert found("{ $.level = ERR* }") == [lines["a"][2]]
    assert found("[ip, method, path, status = 4*, bytes > 500]") == [lines["b"][2]]
    assert found("[ip, method = GET, ...]") == [lines["b"][2]]
    assert found("ERROR", logStreamNames=["b"]) == []
    assert found("", logStreamNamePrefix="b", startTime=t + 11, endTime=t + 12) == lines["b"][1:]
    page = logs.filter_log_events(logGroupName=group, limit=4)
    assert len(page["events"]) == 4 and "nextToken" in page
    event = page["events"][0]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert event["eventId"].isdigit()
    rest = logs.filter_log_events(logGroupName=group, nextToken=page["nextToken"])
    assert len(rest["events"]) == 2 and "nextToken" not in rest
    for bad in ('{ $.level = "ERROR"', "{ $.level ERROR }", "it's (bad)"):
        assert _error(logs.filter_log_events, logGroupName=group, filterPattern=bad)["Code"] == (
            "InvalidParameterException"
        )
    assert _error(logs.filter_log_events, logGroupName=group, filterPattern="(x)")["Message"] == (
        "Invalid character(s) in term '(x)'"
    )


def test_retention_and_tags(logs: Any, make_group: Callable[..., str]) -> None:
    group = make_group(tags={"team": "a"})
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    (shown,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert shown["retentionInDays"] == 7
    assert _error(logs.put_retention_policy, logGroupName=group, retentionInDays=2)["Code"] == (
        "InvalidParameterException"
    )
    logs.delete_retention_policy(logGroupName=group)
    (shown,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in shown
    arn = shown["logGroupArn"]
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    logs.tag_resource(resourceArn=arn, tags={"env": "dev"})
    logs.tag_log_group(logGroupName=group, tags={"legacy": "yes"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "a", "env": "dev", "legacy": "yes"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    logs.untag_log_group(logGroupName=group, tags=["legacy"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    assert _error(logs.list_tags_for_resource, resourceArn=arn + "-missing")["Code"] == "ResourceNotFoundException"
