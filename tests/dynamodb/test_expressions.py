"""The expression grammar and evaluator without a server: precedence, resolution, updates, projections."""

from __future__ import annotations

from typing import Any

import pytest

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.expressions.evaluate import apply_update, matches, project
from lamina.services.dynamodb.expressions.parser import Resolver
from lamina.services.dynamodb.values import Item

ITEM: Item = {"a": {"N": "5"}, "s": {"S": "hello"}, "m": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}}}}


def _condition(text: str, values: dict[str, Any] | None = None) -> bool:
    resolver = Resolver(None, values)
    node = resolver.condition(text, "ConditionExpression")
    resolver.finish()
    return matches(node, ITEM)


def test_precedence_not_and_or() -> None:
    assert _condition(
        "a = :five OR a = :one AND a = :two", {":five": {"N": "5"}, ":one": {"N": "1"}, ":two": {"N": "2"}}
    )
    assert not _condition("NOT a = :five OR s = :x", {":five": {"N": "5"}, ":x": {"S": "x"}})
    assert _condition("a BETWEEN :one AND :five AND s IN (:x, :h)", {":one": {"N": "1"}, ":five": {"N": "5"},
                      ":x": {"S": "x"}, ":h": {"S": "hello"}})  # fmt: skip


def test_functions_and_nested_paths() -> None:
    assert _condition("size(s) = :five AND contains(m.l, :x)", {":five": {"N": "5"}, ":x": {"S": "x"}})
    assert _condition("attribute_type(m.l[1], :t) and attribute_not_exists(m.l[2])", {":t": {"S": "S"}})
    assert _condition("begins_with(s, :he)", {":he": {"S": "he"}})


def test_between_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        _condition("a BETWEEN :five AND :one", {":one": {"N": "1"}, ":five": {"N": "5"}})
    assert "BETWEEN operator requires upper bound to be greater than or equal to lower bound" in excinfo.value.message


def test_update_reads_the_item_before_the_update() -> None:
    resolver = Resolver(None, {":one": {"N": "1"}})
    actions = resolver.update("SET a = a + :one, b = a")
    new = apply_update(ITEM, actions)
    assert new["a"] == {"N": "6"} and new["b"] == {"N": "5"} and ITEM["a"] == {"N": "5"}


def test_projection_keeps_the_structure() -> None:
    resolver = Resolver(None, None)
    paths = resolver.projection("m.l[1], s")
    assert project(ITEM, paths) == {"m": {"M": {"l": {"L": [{"S": "x"}]}}}, "s": {"S": "hello"}}
