"""The SNS filter policy syntax, unit by unit: attribute scope and body scope."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lamina.errors import InvalidParameter
from lamina.services.sns.filter_policy import matches_attributes, matches_body, parse_policy


def attrs(**values: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif isinstance(value, int | float):
            out[name] = {"DataType": "Number", "StringValue": str(value)}
        elif isinstance(value, bytes):
            out[name] = {"DataType": "Binary", "BinaryValue": value}
        else:
            out[name] = {"DataType": "String", "StringValue": value}
    return out


@pytest.mark.parametrize(
    ("policy", "message", "expected"),
    [
        ({"a": ["x"]}, attrs(a="x"), True),
        ({"a": ["x"]}, attrs(a="y"), False),
        ({"a": ["x"]}, attrs(), False),
        ({"a": ["x", "y"]}, attrs(a="y"), True),
        ({"a": ["x"], "b": ["z"]}, attrs(a="x"), False),
        ({"a": [{"prefix": "ab"}]}, attrs(a="abc"), True),
        ({"a": [{"prefix": "ab"}]}, attrs(a="cab"), False),
        ({"a": [{"suffix": "bc"}]}, attrs(a="abc"), True),
        ({"a": [{"equals-ignore-case": "ABC"}]}, attrs(a="abc"), True),
        ({"a": [{"anything-but": "x"}]}, attrs(a="y"), True),
        ({"a": [{"anything-but": ["x", "y"]}]}, attrs(a="y"), False),
        ({"a": [{"anything-but": {"prefix": "x"}}]}, attrs(a="xy"), False),
        ({"a": [{"anything-but": {"prefix": "x"}}]}, attrs(a="yx"), True),
        ({"a": [{"anything-but": "x"}]}, attrs(), False),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, attrs(n=5), True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, attrs(n=0), False),
        ({"n": [{"numeric": ["=", 3.5]}]}, attrs(n=3.5), True),
        ({"n": [10]}, attrs(n=10), True),
        # five digits of accuracy after the decimal point ("Filter policy constraints")
        ({"n": [{"numeric": [">", 1]}]}, attrs(n=1.000001), False),
        ({"n": [{"numeric": [">", 1]}]}, attrs(n=1.00001), True),
        ({"n": [{"numeric": ["=", 1.000001]}]}, attrs(n=1.000004), True),
        ({"n": [{"numeric": ["<=", 2.5]}]}, attrs(n=2.500004), True),
        ({"n": [1.5]}, attrs(n=1.500001), True),
        ({"n": [{"anything-but": [1.5]}]}, attrs(n=1.500001), False),
        ({"n": [10]}, attrs(n="10"), False),
        ({"a": [{"exists": True}]}, attrs(a="anything"), True),
        ({"a": [{"exists": True}]}, attrs(), False),
        ({"a": [{"exists": False}]}, attrs(), True),
        ({"a": [{"exists": False}]}, attrs(a="x"), False),
        ({"a": ["x"]}, attrs(a=["w", "x"]), True),
        ({"a": ["x"]}, attrs(a=["w"]), False),
        ({"a": ["x"]}, attrs(a=b"x"), False),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, attrs(b="y"), True),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, attrs(b="z"), False),
    ],
)
def test_attribute_policies(policy: dict[str, Any], message: dict[str, Any], expected: bool) -> None:
    assert matches_attributes(parse_policy(json.dumps(policy)), message) is expected


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": {"b": "y"}}, False),
        ({"a": {"b": [{"numeric": [">=", 2]}]}}, {"a": {"b": 3}}, True),
        ({"a": ["x"]}, {"a": ["w", "x"]}, True),
        ({"a": {"b": ["x"]}}, {"a": [{"b": "y"}, {"b": "x"}]}, True),
        ({"a": [{"exists": False}]}, {"b": 1}, True),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [True]}, {"a": True}, True),
        ({"a": [1]}, {"a": True}, False),
    ],
)
def test_body_policies(policy: dict[str, Any], body: dict[str, Any], expected: bool) -> None:
    assert matches_body(parse_policy(json.dumps(policy)), json.dumps(body)) is expected


def test_body_scope_needs_json() -> None:
    assert matches_body({"a": ["x"]}, "not json") is False


@pytest.mark.parametrize(
    "text", ["{invalid", "[]", '{"a": "x"}', '{"a": [{"bogus": 1}]}', '{"a": [{"numeric": [">"]}]}']
)
def test_invalid_policies(text: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_policy(text)


def test_cidr_conditions_use_eventbridges_ip_matching() -> None:
    policy = parse_policy(json.dumps({"ip": [{"cidr": "10.0.0.0/24"}]}))
    assert matches_attributes(policy, {"ip": {"DataType": "String", "StringValue": "10.0.0.7"}})
    assert not matches_attributes(policy, {"ip": {"DataType": "String", "StringValue": "10.0.1.7"}})
    with pytest.raises(InvalidParameter) as err:
        parse_policy(json.dumps({"ip": [{"cidr": "10.0.0.0"}]}))
    assert err.value.message == "Invalid parameter: FilterPolicy: Malformed CIDR, one '/' required"
