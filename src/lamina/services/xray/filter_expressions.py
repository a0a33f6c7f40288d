"""X-Ray filter expressions, the basic part (xray devguide "Filter expressions"): keywords `ok`, `error`,
`fault`, `throttle`, `partial`; `responsetime` and `duration` compared with a number (`>`, `>=`, `<`, `<=`,
`=`, `!=`); `service("name")` (a segment of that service in the trace); `id("name")` (the same); combined with
`AND`, `OR`, `NOT`/`!` and parentheses. Anything else is refused as AWS refuses it (InvalidRequestException).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<op>>=|<=|!=|==|>|<|=|\(|\)|!|&&|\|\|)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


@dataclass(frozen=True)
class TraceFacts:
    """What a filter looks at in one trace."""

    ok: bool
    error: bool
    fault: bool
    throttle: bool
    partial: bool
    response_time: float
    duration: float
    services: frozenset[str]


Predicate = Callable[[TraceFacts], bool]


class FilterSyntaxError(ValueError):
    pass


def parse(expression: str) -> Predicate:
    tokens = _tokens(expression)
    parser = _Parser(tokens)
    predicate = parser.disjunction()
    if parser.pos != len(tokens):
        raise FilterSyntaxError(f"Invalid filter expression: unexpected {tokens[parser.pos][1]!r}")
    return predicate


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterSyntaxError(f"Invalid filter expression: cannot read {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_FLAGS: dict[str, Predicate] = {
    "ok": lambda f: f.ok,
    "error": lambda f: f.error,
    "fault": lambda f: f.fault,
    "throttle": lambda f: f.throttle,
    "partial": lambda f: f.partial,
}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise FilterSyntaxError("Invalid filter expression: it ends too early")
        self.pos += 1
        return token

    def _is(self, *values: str) -> bool:
        token = self._peek()
        return token is not None and token[1].upper() in values

    def disjunction(self) -> Predicate:
        left = self.conjunction()
        while self._is("OR", "||"):
            self.pos += 1
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.negation()
        while self._is("AND", "&&"):
            self.pos += 1
            right = self.negation()
            left = _both(left, right)
        return left

    def negation(self) -> Predicate:
        if self._is("NOT", "!"):
            self.pos += 1
            inner = self.negation()
            return lambda f: not inner(f)
        return self.atom()

    def atom(self) -> Predicate:
        kind, value = self._take()
        if value == "(":
            inner = self.disjunction()
            if self._take()[1] != ")":
                raise FilterSyntaxError("Invalid filter expression: ')' expected")
            return inner
        if kind != "word":
            raise FilterSyntaxError(f"Invalid filter expression: unexpected {value!r}")
        word = value.lower()
        if word in _FLAGS:
            return _FLAGS[word]
        if word in ("responsetime", "duration"):
            _, op = self._take()
            compare = _COMPARE.get(op)
            number_kind, number = self._take()
            if compare is None or number_kind != "num":
                raise FilterSyntaxError(f"Invalid filter expression: {value} needs a comparison with a number")
            limit = float(number)
            if word == "duration":
                return lambda f: compare(f.duration, limit)
            return lambda f: compare(f.response_time, limit)
        if word in ("service", "id"):
            if self._take()[1] != "(":
                raise FilterSyntaxError(f"Invalid filter expression: {value}( expected")
            if self._is(")"):
                self.pos += 1
                return lambda f: bool(f.services)
            string_kind, text = self._take()
            if string_kind != "str" or self._take()[1] != ")":
                raise FilterSyntaxError(f'Invalid filter expression: {value}("name") expected')
            name = text[1:-1].replace('\\"', '"')
            return lambda f: name in f.services
        raise FilterSyntaxError(f"Invalid filter expression: unknown keyword {value!r}")


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda f: a(f) or b(f)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda f: a(f) and b(f)
