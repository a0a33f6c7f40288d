"""GetMetricData's metric math, the common part: query ids, numbers, + - * / and parentheses, arrays `[m1, m2]`,
`METRICS()` (every MetricStat query, not expressions, or those whose id starts with the string given), and
SUM/AVG/MIN/MAX.

A time series is {timestamp: value}. Arithmetic between two series keeps the timestamps both have; with a number
it applies to every point. SUM/AVG/MIN/MAX of an array give a series (per timestamp, over the series that have
it); of one series, a number. A number as the final result is given at every timestamp the queries returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Union

from lamina.services.cloudwatch import faults

Series = dict[int, float]
Value = Union[float, Series, list[Series]]  # noqa: UP007 - a recursive-looking alias reads better spelled out

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\"[^\"]*\")|(.))")
_FUNCTIONS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda xs: sum(xs) / len(xs),
    "MIN": min,
    "MAX": max,
}


def _tokens(text: str) -> list[str]:
    out = []
    for number, name, string, other in _TOKEN.findall(text):
        token = number or name or string or other
        if token.strip():
            out.append(token)
    return out


class _Parser:
    def __init__(self, text: str, series: dict[str, Series], where: str, metrics: frozenset[str] = frozenset()) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.series = series
        self.metrics = metrics
        self.where = where

    def fail(self, detail: str) -> Exception:
        return faults.invalid_value(f"Error in expression '{self.where}': {detail}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise self.fail(f"expected {expected or 'a value'}")
        self.pos += 1
        return token

    def parse(self) -> Value:
        value = self.sum()
        if self.peek() is not None:
            raise self.fail(f"unexpected '{self.peek()}'")
        return value

    def sum(self) -> Value:
        value = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            value = _combine(value, self.product(), op, self)
        return value

    def product(self) -> Value:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            value = _combine(value, self.unary(), op, self)
        return value

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return _combine(-1.0, self.unary(), "*", self)
        return self.atom()

    def atom(self) -> Value:
        token = self.take()
        if token == "(":
            value = self.sum()
            self.take(")")
            return value
        if token == "[":
            items: list[Series] = []
            while True:
                item = self.sum()
                items.extend(_as_list(item, self))
                if self.peek() == ",":
                    self.take()
                    continue
                self.take("]")
                return items
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        if token.upper() == "METRICS":
            self.take("(")
            prefix = ""
            if self.peek() not in (")", None):
                prefix = self.take().strip('"')
            self.take(")")
            return [s for qid, s in self.series.items() if qid in self.metrics and qid.startswith(prefix)]
        if token.upper() in _FUNCTIONS and self.peek() == "(":
            self.take("(")
            args: list[Value] = [self.sum()]
            while self.peek() == ",":
                self.take()
                args.append(self.sum())
            self.take(")")
            return _aggregate(_FUNCTIONS[token.upper()], args, self)
        if token in self.series:
            return self.series[token]
        raise self.fail(f"unknown identifier '{token}'")


def _as_list(value: Value, parser: _Parser) -> list[Series]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    raise parser.fail("an array holds time series")


def _aggregate(fn: Callable[[list[float]], float], args: list[Value], parser: _Parser) -> Value:
    if len(args) == 1 and isinstance(args[0], dict):
        values = list(args[0].values())
        return fn(values) if values else 0.0
    series = [s for a in args for s in _as_list(a, parser)]
    stamps = sorted({t for s in series for t in s})
    return {t: fn([s[t] for s in series if t in s]) for t in stamps}


def _apply(op: str, a: float, b: float) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b else None  # AWS drops points divided by zero


def _combine(left: Value, right: Value, op: str, parser: _Parser) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise parser.fail("arithmetic between two arrays")
        if isinstance(left, list):
            return [_only_series(_combine(s, right, op, parser)) for s in left]
        assert isinstance(right, list)
        return [_only_series(_combine(left, s, op, parser)) for s in right]
    if isinstance(left, float) and isinstance(right, float):
        result = _apply(op, left, right)
        if result is None:
            raise parser.fail("division by zero")
        return result
    out: Series = {}
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = ((t, left[t], right[t]) for t in left if t in right)
    elif isinstance(left, dict):
        assert isinstance(right, float)
        pairs = ((t, v, right) for t, v in left.items())
    else:
        assert isinstance(right, dict) and isinstance(left, float)
        pairs = ((t, left, v) for t, v in right.items())
    for t, a, b in pairs:
        result = _apply(op, a, b)
        if result is not None:
            out[t] = result
    return out


def _only_series(value: Value) -> Series:
    assert isinstance(value, dict)
    return value


def evaluate(expression: str, series: dict[str, Series], where: str, metrics: frozenset[str]) -> list[Series]:
    """The series an expression gives (one, or several for an array); a number fills every timestamp seen.
    `metrics` are the ids of the MetricStat queries (what METRICS() means)."""
    value = _Parser(expression, series, where, metrics).parse()
    if isinstance(value, float):
        stamps = sorted({t for s in series.values() for t in s})
        return [dict.fromkeys(stamps, value)]
    return _as_list(value, _Parser("", series, where))
