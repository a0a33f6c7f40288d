"""The recorded AWS pattern cases (services__events__test_events_patterns), replayed through boto3.

Every recorded entry that carries its pattern is run: the invalid-pattern entries (AWS quotes the pattern in
`MessageRaw`'s `at [Source: …]`) through TestEventPattern and PutRule, the invalid-JSON and invalid-event
entries with their exact messages. The CIDR and wildcard-complexity entries carry no pattern; their patterns
are written here from the case names. The matching cases (recorded without payloads) are covered by our own
table below, one case per recorded name family, each decided by AWS's documented semantics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

RECORDED = (
    Path(__file__).parents[1] / "conformance" / "aws-recorded" / "services__events__test_events_patterns.snapshot.json"
)
_SOURCE = re.compile(r'\n at \[Source: \(String\)"(.*?)"; line: \d+, column: \d+\]', re.DOTALL)
EVENT = {
    "id": "1",
    "source": "test-source",
    "detail-type": "test-detail-type",
    "account": "123456789012",
    "region": "us-east-2",
    "time": "2022-07-13T13:48:01Z",
    "detail": {"state": "running", "FileName": "a.png", "sourceIPAddress": "10.0.0.255"},
}
# Recorded without the pattern in the message: written from the case's name and AWS's message.
NO_SOURCE = {
    "content_ip_address_EXC": {"detail": {"sourceIPAddress": [{"cidr": "bad-filter"}]}},
    "content_ip_address_bad_mask_EXC": {"detail": {"sourceIPAddress": [{"cidr": "bad-/64filter"}]}},
    "content_ip_address_bad_ip_EXC": {"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/12"}]}},
    "content_ip_address_v6_bad_ip_EXC": {"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}},
    "content_wildcard_complex_EXC": {"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},
}


def _recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text())
    return data


def _invalid_cases() -> list[tuple[str, str, str]]:
    """(case, pattern text, AWS's message without the source tail)."""
    out = []
    for _key, entry in _recorded().items():
        for name, content in entry.get("recorded-content", {}).items():
            error = content.get("exception_message", {}).get("Error") if isinstance(content, dict) else None
            if not error or error.get("Code") != "InvalidEventPatternException":
                continue
            raw = error.get("MessageRaw", error["Message"])
            m = _SOURCE.search(raw)
            if m is not None:
                text = m.group(1).replace("<partition>", "aws").replace("<region>", "us-east-1")
            else:
                text = json.dumps(NO_SOURCE[name])
            out.append((name, text, error["Message"]))
    return sorted(out)


INVALID = _invalid_cases()


def test_every_recorded_invalid_pattern_is_replayed() -> None:
    assert len(INVALID) == 38  # every InvalidEventPatternException entry of test_event_pattern[...]
    assert {name for name, _, _ in INVALID} >= set(NO_SOURCE)


@pytest.mark.parametrize(("name", "pattern", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_recorded_invalid_pattern(events: Any, name: str, pattern: str, message: str) -> None:
    with pytest.raises(ClientError) as err:
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(EVENT))
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.value.response["Error"]["Message"].split("\n at [Source")[0] == message
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=f"invalid-{name}"[:64], EventPattern=pattern)
    assert err.value.response["Error"]["Message"].split("\n at [Source")[0] == message
    with pytest.raises(ClientError):
        events.describe_rule(Name=f"invalid-{name}"[:64])  # nothing was created


def _json_cases() -> list[tuple[str, str]]:
    out = []
    for key, entry in _recorded().items():
        if "test_invalid_json_event_pattern[" in key:
            error = entry["recorded-content"]["invalid-pattern"]["Error"]
            text = _SOURCE.search(error["Message"])
            assert text is not None
            out.append((text.group(1), error["Message"]))
    return out


@pytest.mark.parametrize(("pattern", "message"), _json_cases())
def test_recorded_invalid_json_patterns_with_jacksons_message(events: Any, pattern: str, message: str) -> None:
    with pytest.raises(ClientError) as err:
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(EVENT))
    assert err.value.response["Error"] == {"Code": "InvalidEventPatternException", "Message": message}


@pytest.mark.parametrize(
    ("case", "key", "event"),
    [
        ("test_plain_string_payload", "plain-string-payload-exc", "plain string"),
        ("test_array_event_payload", "array-event-payload-exc", "[1, 2]"),
        ("test_invalid_event_payload", "plain-string-payload-exc", '{"testEvent": "value"}'),  # fields missing
        ("test_plain_string_payload", "plain-string-payload-exc", '{"not": closed'),
    ],
)
def test_recorded_invalid_event_payloads(events: Any, case: str, key: str, event: str) -> None:
    [entry] = [v for k, v in _recorded().items() if k.endswith(f"::{case}")]
    expected = entry["recorded-content"][key]["Error"]
    with pytest.raises(ClientError) as err:
        events.test_event_pattern(EventPattern='{"source": ["x"]}', Event=event)
    assert err.value.response["Error"] == expected


def test_recorded_source_match_and_no_match(events: Any) -> None:
    [entry] = [v for k, v in _recorded().items() if k.endswith("::test_event_pattern_source")]
    content = entry["recorded-content"]
    pattern = json.dumps({"source": ["order"], "detail-type": ["Test"]})
    yes = {**EVENT, "source": "order", "detail-type": "Test"}
    got = events.test_event_pattern(EventPattern=pattern, Event=json.dumps(yes))
    assert got["Result"] is content["eventbridge-test-event-pattern-response"]["Result"]
    got = events.test_event_pattern(EventPattern=pattern, Event=json.dumps({**yes, "source": "other"}))
    assert got["Result"] is content["eventbridge-test-event-pattern-response-no-match"]["Result"]


def _event(**detail: Any) -> dict[str, Any]:
    return {**EVENT, "detail": detail}


# (recorded case name where one exists, pattern, event, matches): AWS's documented semantics, and the recorded
# cases' outcomes (a name without _NEG matched on AWS, one with _NEG did not).
MATCHING = [
    ("string", {"source": ["test-source"]}, EVENT, True),
    ("string_NEG", {"source": ["other"]}, EVENT, False),
    ("key_case_sensitive_NEG", {"Source": ["test-source"]}, EVENT, False),
    ("prefix", {"source": [{"prefix": "test-"}]}, EVENT, True),
    ("content_prefix_NEG", {"source": [{"prefix": "x"}]}, EVENT, False),
    ("content_prefix_ignorecase", {"source": [{"prefix": {"equals-ignore-case": "TEST"}}]}, EVENT, True),
    ("content_suffix", {"detail": {"FileName": [{"suffix": ".png"}]}}, EVENT, True),
    ("content_suffix_ignorecase", {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}, EVENT, True),
    ("content_ignorecase", {"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, EVENT, True),
    ("content_anything_but_string", {"detail": {"state": [{"anything-but": "stopped"}]}}, EVENT, True),
    ("content_anything_but_string_NEG", {"detail": {"state": [{"anything-but": "running"}]}}, EVENT, False),
    ("content_anything_but_string_null", {"detail": {"s": [{"anything-but": "x"}]}}, _event(s=None), True),
    ("content_anything_but_string_missing_NEG", {"detail": {"s": [{"anything-but": "x"}]}}, _event(), False),
    ("content_anything_but_number_list", {"detail": {"n": [{"anything-but": [1, 2]}]}}, _event(n=3), True),
    ("content_anything_but_number_list_NEG", {"detail": {"n": [{"anything-but": [1, 2]}]}}, _event(n=2), False),
    (
        "content_anything_but_ignorecase_list",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["STOPPED"]}}]}},
        EVENT,
        True,
    ),
    (
        "content_anything_but_ignorecase_list_NEG",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}},
        EVENT,
        False,
    ),
    ("content_anything_prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, EVENT, True),
    ("content_anything_prefix_NEG", {"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, EVENT, False),
    (
        "content_anything_prefix_int_value",
        {"detail": {"s": [{"anything-but": {"prefix": "init"}}]}},
        _event(s=12),
        True,
    ),
    ("content_anything_prefix_list", {"detail": {"state": [{"anything-but": {"prefix": ["a", "b"]}}]}}, EVENT, True),
    (
        "content_anything_prefix_list_NEG",
        {"detail": {"state": [{"anything-but": {"prefix": ["a", "ru"]}}]}},
        EVENT,
        False,
    ),
    (
        "content_anything_suffix_list_NEG",
        {"detail": {"FileName": [{"anything-but": {"suffix": [".txt", ".png"]}}]}},
        EVENT,
        False,
    ),
    ("content_anything_wildcard", {"detail": {"FileName": [{"anything-but": {"wildcard": "*.txt"}}]}}, EVENT, True),
    (
        "content_anything_wildcard_NEG",
        {"detail": {"FileName": [{"anything-but": {"wildcard": "*.png"}}]}},
        EVENT,
        False,
    ),
    ("content_numeric_and", {"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}, _event(n=5), True),
    ("content_numeric_and_NEG", {"detail": {"n": [{"numeric": [">", 0, "<", 5]}]}}, _event(n=5), False),
    ("number_comparison_float", {"number": [300]}, {**EVENT, "number": 300.0}, True),
    ("numeric-int-float", {"number": [{"numeric": [">", 100]}]}, {**EVENT, "number": 101.0}, True),
    ("numeric-string_NEG", {"number": [{"numeric": [">", 100]}]}, {**EVENT, "number": "101"}, False),
    ("numeric-null_NEG", {"number": [{"numeric": [">", 100]}]}, {**EVENT, "number": None}, False),
    ("content_exists", {"detail": {"state": [{"exists": True}]}}, EVENT, True),
    ("content_exists_NEG", {"detail": {"nope": [{"exists": True}]}}, EVENT, False),
    ("content_exists_false", {"detail": {"nope": [{"exists": False}]}}, EVENT, True),
    ("content_exists_false_NEG", {"detail": {"state": [{"exists": False}]}}, EVENT, False),
    ("exists_list_empty_NEG", {"resources": [{"exists": True}]}, {**EVENT, "resources": []}, False),
    ("content_ip_address", {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}, EVENT, True),
    ("content_ip_address_NEG", {"detail": {"sourceIPAddress": [{"cidr": "10.0.1.0/24"}]}}, EVENT, False),
    (
        "content_ip_address_v6",
        {"detail": {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}},
        _event(ip="2001:db8:1234:1a00::1"),
        True,
    ),
    ("content_ip_address_bad_type_NEG", {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, _event(ip=10), False),
    ("content_wildcard_nonrepeating", {"detail": {"FileName": [{"wildcard": "a*.png"}]}}, EVENT, True),
    ("content_wildcard_repeating_NEG", {"detail": {"FileName": [{"wildcard": "*b*.png"}]}}, EVENT, False),
    ("null_value", {"detail": {"s": [None]}}, _event(s=None), True),
    ("null_value_NEG", {"detail": {"s": [None]}}, _event(s="x"), False),
    ("arrays", {"resources": ["b"]}, {**EVENT, "resources": ["a", "b"]}, True),
    ("arrays_NEG", {"resources": ["c"]}, {**EVENT, "resources": ["a", "b"]}, False),
    ("arrays_empty_null_NEG", {"resources": [None]}, {**EVENT, "resources": []}, False),
    ("boolean", {"detail": {"b": [True]}}, _event(b=True), True),
    ("boolean_NEG", {"detail": {"b": [True]}}, _event(b="true"), False),
    ("dot_joining_pattern", {"detail": {"state.status": ["running"]}}, _event(state={"status": "running"}), True),
    (
        "dot_joining_event",
        {"detail": {"state": {"status": ["running"]}}},
        {**EVENT, "detail": {"state": {"status": "running"}}},
        True,
    ),
    ("list_within_dict", {"detail": {"a": {"id": [{"exists": True}]}}}, _event(a=[{"k": 1}, {"id": "x"}]), True),
    ("list_within_dict_values", {"detail": {"items": {"id": ["b"]}}}, _event(items=[{"id": "a"}, {"id": "b"}]), True),
    ("complex_or", {"detail": {"$or": [{"n": [{"numeric": [">", 10]}]}, {"state": ["running"]}]}}, EVENT, True),
    ("complex_or_NEG", {"detail": {"$or": [{"n": [{"numeric": [">", 10]}]}, {"state": ["stopped"]}]}}, EVENT, False),
    ("or-exists", {"$or": [{"detail": {"x": [{"exists": True}]}}, {"source": ["test-source"]}]}, EVENT, True),
    ("or-anything-but", {"$or": [{"source": [{"anything-but": "test-source"}]}, {"account": ["1"]}]}, EVENT, False),
    ("operator_multiple_list", {"my_key": [{"exists": True}, {"prefix": "IGNORED"}]}, {**EVENT, "my_key": "v"}, True),
    ("numeric_list_or", {"detail": {"n": [{"numeric": [">", 10]}, {"numeric": ["<", 3]}]}}, _event(n=2), True),
]


@pytest.mark.parametrize(("name", "pattern", "event", "result"), MATCHING, ids=[c[0] for c in MATCHING])
def test_matching(events: Any, name: str, pattern: dict[str, Any], event: dict[str, Any], result: bool) -> None:
    got = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
    assert got["Result"] is result
